//! The sink contract, checked by the plugin author's kit (`exporter_core::testkit`).

use exporter_campaign_summary as _;
use exporter_json_schema as _;

#[test]
fn keeps_the_sink_contract() {
    exporter_testkit::Kit::new("campaign-summary")
        .unwrap()
        .assert_all();
}
