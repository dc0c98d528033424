//! The JSON cursor against serde_json, on any input: what the cursor accepts serde_json
//! accepts, as the same text (but for `\u` escapes of surrogates, which the grammar cannot
//! pair up and the cursor counts for its caller); what serde_json accepts the cursor accepts,
//! unless it nests deeper than the cursor reads. On an object, the members `JsonObject`
//! indexes are the ones serde_json reads.
#![no_main]

use exporter_json::{Cursor, JsonObject, MAX_DEPTH};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fn depth(text: &str) -> u32 {
    // an upper bound: brackets inside strings count too
    let (mut d, mut max) = (0u32, 0u32);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                d += 1;
                max = max.max(d);
            }
            b']' | b'}' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut cursor = Cursor::new(text);
    let by_cursor = cursor.value().filter(|_| cursor.at_end());
    let by_serde = serde_json::from_str::<&RawValue>(text).ok();
    match (by_cursor, by_serde) {
        (Some(value), Some(raw)) => assert_eq!(value, raw.get(), "{text:?}"),
        (Some(_), None) => assert!(cursor.surrogate_escapes() > 0, "cursor only: {text:?}"),
        (None, Some(_)) => assert!(depth(text) > MAX_DEPTH, "serde only: {text:?}"),
        (None, None) => {}
    }
    if let Ok(object) = JsonObject::parse(text) {
        let members: Vec<(String, &str)> =
            object.members().map(|(k, v)| (k.into_owned(), v)).collect();
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).unwrap();
        for (key, value) in &members {
            let read: serde_json::Value = serde_json::from_str(value).unwrap();
            // a repeated key: the last one is the map's
            if members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v) == Some(value) {
                assert_eq!(map.get(key), Some(&read), "{text:?}");
            }
        }
        assert!(members.len() >= map.len());
    }
});
