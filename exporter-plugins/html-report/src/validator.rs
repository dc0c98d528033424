//! The `html-report` validator: the committed page is well-formed, runs nothing and loads
//! nothing. The page is written as polyglot markup (every element closed, attributes quoted,
//! only numeric character references), so a strict XML reader checks its form.

use exporter_core::{
    FileUnderCheck, Finding, FindingCode, Validator, ValidatorContext, ValidatorPlugin,
};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Elements a self-contained page never holds: they run code or embed other documents.
const FORBIDDEN_ELEMENTS: [&str; 7] = [
    "script", "iframe", "object", "embed", "link", "base", "frame",
];

/// Attributes whose value is fetched or followed.
const REFERENCE_ATTRIBUTES: [&str; 8] = [
    "src",
    "href",
    "xlink:href",
    "srcset",
    "action",
    "poster",
    "data",
    "formaction",
];

/// Every problem of a page's bytes, each named by byte offset.
///
/// ```
/// let page = br#"<!DOCTYPE html><html><body><p>ok</p></body></html>"#;
/// assert!(exporter_html_report::check_page(page).is_empty());
/// let bad = br#"<html><body><img src="https://example.com/x.png"/></body></html>"#;
/// assert!(exporter_html_report::check_page(bad)[0].1.contains("https://example.com/x.png"));
/// ```
pub fn check_page(bytes: &[u8]) -> Vec<(FindingCode, String)> {
    let mut found = Vec::new();
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut in_style = false;
    loop {
        let at = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                depth += 1;
                in_style = e.local_name().as_ref() == "style";
                check_element(&e, at, &mut found);
            }
            Ok(Event::Empty(e)) => check_element(&e, at, &mut found),
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                in_style = false;
            }
            Ok(Event::Text(t)) if in_style => {
                let css = t.as_ref().to_lowercase();
                for needle in ["url(", "@import"] {
                    if css.contains(needle) {
                        found.push((
                            FindingCode::ExternalReference,
                            format!("byte {at}: the style sheet uses {needle}"),
                        ));
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                found.push((
                    FindingCode::EncodingError,
                    format!("byte {}: not well-formed: {e}", reader.error_position()),
                ));
                return found;
            }
        }
    }
    if depth != 0 {
        found.push((
            FindingCode::EncodingError,
            format!("{depth} element(s) left open at the end"),
        ));
    }
    if !found_root(bytes) {
        found.push((
            FindingCode::EncodingError,
            "no <html> element: not a page".to_string(),
        ));
    }
    found
}

fn found_root(bytes: &[u8]) -> bool {
    let mut reader = Reader::from_reader(bytes);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => return e.local_name().as_ref() == "html",
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

fn check_element(e: &BytesStart<'_>, at: u64, found: &mut Vec<(FindingCode, String)>) {
    let name = e.name().as_ref().to_lowercase();
    if FORBIDDEN_ELEMENTS.contains(&name.as_str()) {
        found.push((
            FindingCode::ExternalReference,
            format!("byte {at}: a <{name}> element"),
        ));
    }
    for attr in e.attributes() {
        let attr = match attr {
            Ok(a) => a,
            Err(err) => {
                found.push((
                    FindingCode::EncodingError,
                    format!("byte {at}: <{name}>: {err}"),
                ));
                continue;
            }
        };
        let key = attr.key.as_ref().to_lowercase();
        let value = attr.value.trim().to_lowercase();
        if key.starts_with("on") {
            found.push((
                FindingCode::ExternalReference,
                format!("byte {at}: <{name}> has the event handler {key}"),
            ));
        } else if REFERENCE_ATTRIBUTES.contains(&key.as_str())
            && !(value.starts_with('#') || value.starts_with("data:"))
        {
            found.push((
                FindingCode::ExternalReference,
                format!("byte {at}: <{name} {key}=\"{value}\"> refers outside the page"),
            ));
        } else if key == "style" && (value.contains("url(") || value.contains("@import")) {
            found.push((
                FindingCode::ExternalReference,
                format!("byte {at}: <{name}> has a style that loads {value:?}"),
            ));
        }
    }
}

struct PageValidator;

impl Validator for PageValidator {
    fn check(&self, file: &FileUnderCheck<'_>) -> Vec<Finding> {
        match std::fs::read(file.path) {
            Ok(bytes) => check_page(&bytes)
                .into_iter()
                .map(|(code, text)| Finding::new(code, file.name, text))
                .collect(),
            Err(e) => vec![Finding::new(
                FindingCode::MissingFile,
                file.name,
                format!("cannot read: {e}"),
            )],
        }
    }
}

fn build(cx: &ValidatorContext<'_>) -> Result<Box<dyn Validator>, String> {
    if cx.sink_type != "html-report" {
        return Err(format!(
            "html-report checks `html-report` sinks, not {:?}",
            cx.sink_type
        ));
    }
    Ok(Box::new(PageValidator))
}

exporter_core::inventory::submit! {
    ValidatorPlugin {
        name: "html-report",
        description: "The page is well-formed polyglot markup with no script, no event handler and no reference that would load anything.",
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(page: &str) -> Vec<FindingCode> {
        check_page(page.as_bytes())
            .into_iter()
            .map(|f| f.0)
            .collect()
    }

    #[test]
    fn each_way_of_loading_or_running_something_is_found() {
        use FindingCode::{EncodingError, ExternalReference};
        let ok = "<html><body><a href=\"#proxies\">x</a><svg><rect/></svg></body></html>";
        assert!(codes(ok).is_empty());
        for bad in [
            "<html><body><script>alert(1)</script></body></html>",
            "<html><head><link rel=\"stylesheet\" href=\"x.css\"/></head></html>",
            "<html><body><img src=\"http://x/y.png\"/></body></html>",
            "<html><body><img src=\"x\" onerror=\"alert(1)\"/></body></html>",
            "<html><head><style>@import 'x.css';</style></head></html>",
            "<html><head><style>body { background: url(http://x/y.png) }</style></head></html>",
            "<html><body><p style=\"background:url(//x/y)\">x</p></body></html>",
            "<html><body><svg><image xlink:href=\"http://x/y.png\"/></svg></body></html>",
            "<html><body><iframe></iframe></body></html>",
        ] {
            assert!(codes(bad).contains(&ExternalReference), "{bad}");
        }
        for broken in [
            "<html><body><p>x</body></html>",
            "<html><body><p>x</p>",
            "<html><body a=b></body></html>",
            "<div>not a page</div>",
        ] {
            assert!(codes(broken).contains(&EncodingError), "{broken}");
        }
    }
}
