//! Drains a stream through the `nats` source alone (no sinks), to tell the source's rate
//! from the pipeline's: `cargo run --release -p exporter-nats --example drain -- STREAM [BATCH]`.
//! It uses (and then deletes) a consumer of its own, so the stream is left as it was.

use std::time::{Duration, Instant};

use exporter_core::{Input, SourceContext};
use exporter_nats as _; // links the `nats` source's registration

fn main() {
    let mut args = std::env::args().skip(1);
    let stream = args.next().expect("usage: drain STREAM [BATCH]");
    let batch = args.next().unwrap_or_else(|| "1024".into());
    let consumer = format!("drain-{}", std::process::id());
    let table: toml::Value = toml::from_str(&format!(
        "stream = {stream:?}\nconsumer = {consumer:?}\nbatch = {batch}\n"
    ))
    .expect("TOML");
    let plugin = exporter_core::source_plugin("nats").expect("linked");
    let mut d = <dyn erased_serde::Deserializer>::erase(table);
    let mut source =
        (plugin.build)(&mut d, &SourceContext::new("nats", ".")).expect("the config builds");
    let started = Instant::now();
    let (mut messages, mut batches, mut bytes) = (0u64, 0u64, 0u64);
    let mut last = Instant::now();
    loop {
        match source
            .next(Duration::from_millis(200))
            .expect("the source reads")
        {
            Some(Input::Messages(b)) if b.is_empty() => {
                if last.elapsed() > Duration::from_millis(500) {
                    break;
                }
            }
            Some(Input::Messages(b)) => {
                messages += b.len() as u64;
                batches += 1;
                bytes += b.iter().map(|m| m.payload.len() as u64).sum::<u64>();
                last = Instant::now();
            }
            _ => break,
        }
    }
    let took = last.duration_since(started).as_secs_f64();
    let acking = Instant::now();
    source.committed().expect("acknowledged");
    let ack = acking.elapsed().as_secs_f64();
    println!(
        "{messages} messages ({bytes} bytes) in {batches} batches, {took:.3} s: {:.0} messages/s; acknowledging them all took {ack:.3} s",
        messages as f64 / took
    );
    drop(source);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = async_nats::connect("nats://127.0.0.1:4222").await?;
        let js = async_nats::jetstream::new(client);
        js.delete_consumer_from_stream(&consumer, &stream).await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
    .expect("the drain's consumer is deleted");
}
