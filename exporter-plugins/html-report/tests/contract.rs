//! The `html-report` sink keeps the sink contract.

use exporter_html_report as _; // link the plugin

#[test]
fn keeps_the_contract() {
    exporter_testkit::Kit::new("html-report")
        .unwrap()
        .assert_all();
}
