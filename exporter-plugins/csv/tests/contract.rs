//! The sink contract, checked by the plugin author's kit (`exporter_core::testkit`).

use exporter_csv as _;

#[test]
fn keeps_the_sink_contract() {
    exporter_testkit::Kit::new("csv").unwrap().assert_all();
}
