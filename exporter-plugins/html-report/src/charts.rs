//! The page's charts, drawn with plotters into inline SVG. Only numbers and labels of our own
//! go into a chart (proxies are numbered by their rank in the table), so no untrusted text
//! reaches the SVG; plotters escapes text anyway.

use exporter_core::Timestamp;
use exporter_stats::{Bucket, Health, SeriesView};
use plotters::prelude::*;

use crate::page::{ProxyRow, RecordsPart};

const WIDTH: u32 = 760;
const HEIGHT: u32 = 260;
pub(crate) const BLUE: RGBColor = RGBColor(0x2f, 0x6f, 0xb0);
const GREEN: RGBColor = RGBColor(0x2e, 0x8b, 0x57);
const ORANGE: RGBColor = RGBColor(0xe0, 0x8a, 0x1e);
pub(crate) const RED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
const GREY: RGBColor = RGBColor(0x9a, 0xa5, 0xb1);

type Drawn = Result<(), String>;

/// Draws into an SVG string of the page's chart size.
fn svg(
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Drawn,
) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(root.clone())?;
        root.present().map_err(|e| e.to_string())?;
    }
    // an inline SVG needs no namespace declaration in an HTML page, and the page then holds
    // no URL of its own making at all
    Ok(out.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Received, written, rejected and duplicates as bars.
pub fn accounting(r: &RecordsPart) -> Result<String, String> {
    let bars = [
        ("received", r.received, BLUE),
        ("written", r.written, GREEN),
        ("rejected", r.rejected, RED),
        ("duplicates", r.duplicates, GREY),
    ];
    let top = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(0usize..bars.len(), 0u64..top + top / 10 + 1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len())
            .x_label_formatter(&|i| bars.get(*i).map_or(String::new(), |b| b.0.to_string()))
            .y_desc("records")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, n, color))| {
                Rectangle::new([(i, 0), (i + 1, *n)], color.filled()).into_dyn()
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// Labels a time bucket's start: the time of day for buckets under a day (with the date when
/// the window spans days), the date otherwise.
fn time_label(view: &SeriesView, i: usize) -> String {
    let at = view.start.unix_seconds() + i as i64 * view.width_s;
    let text = Timestamp::from_unix_seconds(at).map_or(String::new(), |t| t.to_string());
    let spans_days = view.buckets.len() as i64 * view.width_s > 86_400;
    match (view.width_s >= 86_400, spans_days) {
        (true, _) => text.get(..10).unwrap_or_default().to_string(),
        (false, true) => format!(
            "{} {}",
            text.get(5..10).unwrap_or_default(),
            text.get(11..16).unwrap_or_default()
        ),
        (false, false) => text.get(11..16).unwrap_or_default().to_string(),
    }
}

/// One count per time bucket as bars (requests, or error events).
pub fn counts_over_time(
    view: &SeriesView,
    what: &str,
    count: fn(&Bucket) -> u64,
    color: RGBColor,
) -> Result<String, String> {
    let n = view.buckets.len().max(1);
    let top = view.buckets.iter().map(count).max().unwrap_or(0).max(1);
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(0usize..n, 0u64..top + top / 10 + 1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(8)
            .x_label_formatter(&|i| time_label(view, *i))
            .y_desc(what)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                view.buckets
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| count(b) > 0)
                    .map(|(i, b)| Rectangle::new([(i, 0), (i + 1, count(b))], color.filled())),
            )
            .map_err(err)?;
        Ok(())
    })
}

/// Success and block rates per time bucket, in percent, as two lines.
pub fn rates_over_time(view: &SeriesView) -> Result<String, String> {
    let n = view.buckets.len().max(1);
    let line = |rate: fn(&Bucket) -> Option<f64>| -> Vec<(f64, f64)> {
        view.buckets
            .iter()
            .enumerate()
            .filter_map(|(i, b)| rate(b).map(|r| (i as f64 + 0.5, 100.0 * r)))
            .collect()
    };
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..n as f64, 0f64..100f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(8)
            .x_label_formatter(&|x| time_label(view, *x as usize))
            .y_desc("% of requests")
            .draw()
            .map_err(err)?;
        for (name, rate, color) in [
            (
                "success",
                Bucket::success_rate as fn(&Bucket) -> Option<f64>,
                GREEN,
            ),
            ("blocked", Bucket::block_rate, RED),
        ] {
            chart
                .draw_series(LineSeries::new(line(rate), color.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 14, y + 4)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(GREY)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(err)?;
        Ok(())
    })
}

/// p50 (dark) over p95 (light) latency of the `n` lowest-scored proxies, worst first,
/// numbered by their rank in the table.
pub fn latency_of_worst(rows: &[ProxyRow], n: usize) -> Result<String, String> {
    let worst: Vec<&ProxyRow> = rows
        .iter()
        .rev()
        .filter(|r| r.p50.is_some())
        .take(n)
        .collect();
    let top = worst.iter().filter_map(|r| r.p95).fold(1.0f64, f64::max);
    let slots = worst.len().max(1);
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d(0usize..slots, 0f64..top * 1.1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(slots.min(30))
            .x_label_formatter(&|i| {
                worst
                    .get(*i)
                    .map_or(String::new(), |r| format!("#{}", r.rank))
            })
            .y_desc("latency, ms")
            .draw()
            .map_err(err)?;
        for (value, color) in [
            (
                (|r: &ProxyRow| r.p95) as fn(&ProxyRow) -> Option<f64>,
                ORANGE.mix(0.45),
            ),
            (|r: &ProxyRow| r.p50, ORANGE.mix(1.0)),
        ] {
            chart
                .draw_series(worst.iter().enumerate().filter_map(|(i, r)| {
                    let v = value(r)?;
                    Some(Rectangle::new([(i, 0.0), (i + 1, v)], color.filled()))
                }))
                .map_err(err)?;
        }
        Ok(())
    })
}

/// Every proxy with a latency: median latency against success rate, coloured by health.
pub fn success_vs_latency(rows: &[ProxyRow]) -> Result<String, String> {
    let points: Vec<(f64, f64, RGBColor)> = rows
        .iter()
        .filter_map(|r| {
            let color = match r.health {
                Health::Healthy => GREEN,
                Health::Degraded => ORANGE,
                Health::Failing => RED,
            };
            Some((r.p50?, 100.0 * r.success_rate?, color))
        })
        .collect();
    let right = points.iter().map(|p| p.0).fold(1.0f64, f64::max) * 1.05;
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..right, 0f64..100f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("median latency, ms")
            .y_desc("success, %")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|(x, y, c)| Circle::new((*x, *y), 3, c.mix(0.8).filled())),
            )
            .map_err(err)?;
        Ok(())
    })
}
