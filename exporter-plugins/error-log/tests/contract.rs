//! The sink contract, checked by the plugin author's kit (`exporter_core::testkit`).

use exporter_error_log as _;

#[test]
fn keeps_the_sink_contract() {
    exporter_testkit::Kit::new("error-log")
        .unwrap()
        .assert_all();
}
