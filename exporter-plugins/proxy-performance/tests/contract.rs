//! The sink contract, checked by the plugin author's kit (`exporter_core::testkit`).

use exporter_json_schema as _;
use exporter_proxy_performance as _;

#[test]
fn keeps_the_sink_contract() {
    exporter_testkit::Kit::new("proxy-performance")
        .unwrap()
        .assert_all();
}
