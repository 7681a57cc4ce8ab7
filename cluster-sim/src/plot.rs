//! `--plot FILE.svg`: pods Running over virtual time (one line per leaf), the attach-latency
//! distribution, and each fault as a marker on the timeline, drawn with plotters' SVG backend.

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::report::Report;

/// The series' titles, as they appear in the SVG (the plot test looks for them).
pub const RUNNING_TITLE: &str = "pods Running over virtual time";
/// The latency panel's title.
pub const LATENCY_TITLE: &str = "attach latency (creation to Running)";
/// The legend of the fault markers.
pub const FAULT_LEGEND: &str = "fault";

const PALETTE: [RGBColor; 6] = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];

fn draw_err(path: &Path) -> impl Fn(String) -> Error + '_ {
    move |detail| Error::Plot {
        path: path.to_path_buf(),
        detail,
    }
}

/// Draws `report` into `path` (an SVG file, 1200x900).
pub fn draw(report: &Report, path: &Path) -> Result<()> {
    let err = draw_err(path);
    let root = SVGBackend::new(path, (1200, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
    let (top, bottom) = root.split_vertically(520);
    let end_s = report
        .running_series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|(t, _)| *t))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        / 1000.0;
    let max_running = report
        .running_series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|(_, c)| *c))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut chart = ChartBuilder::on(&top)
        .caption(RUNNING_TITLE, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            0f64..end_s * 1.02,
            0usize..max_running + max_running / 10 + 1,
        )
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("virtual time (s)")
        .y_desc("pods Running")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    // many leafs: the first few by name, the rest in grey
    for (i, (leaf, series)) in report.running_series.iter().enumerate() {
        let color = if i < PALETTE.len() {
            PALETTE[i]
        } else {
            RGBColor(150, 150, 150)
        };
        let points: Vec<(f64, usize)> = series
            .iter()
            .map(|(t, c)| (*t as f64 / 1000.0, *c))
            .collect();
        let drawn = chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| err(e.to_string()))?;
        if i < PALETTE.len() {
            drawn
                .label(format!("Running on {leaf}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
    }
    let faults: Vec<(f64, String)> = report
        .faults
        .iter()
        .map(|f| (f.at_ms as f64 / 1000.0, f.kind.name().to_string()))
        .collect();
    let top_y = max_running + max_running / 10;
    chart
        .draw_series(faults.iter().map(|(t, _)| {
            PathElement::new(
                vec![(*t, 0), (*t, top_y)],
                RGBColor(255, 140, 0).stroke_width(1),
            )
        }))
        .map_err(|e| err(e.to_string()))?
        .label(FAULT_LEGEND)
        .legend(|(x, y)| PathElement::new(vec![(x, y - 6), (x, y + 6)], RGBColor(255, 140, 0)));
    chart
        .draw_series(faults.iter().map(|(t, name)| {
            Text::new(
                name.clone(),
                (*t, top_y),
                ("sans-serif", 12).into_font().color(&RGBColor(255, 140, 0)),
            )
        }))
        .map_err(|e| err(e.to_string()))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;

    // the latency distribution: a histogram of 40 bins
    let lat = &report.attach_ms;
    let max_ms = lat.iter().copied().max().unwrap_or(1).max(1);
    let bins = 40u64;
    let width = max_ms.div_ceil(bins).max(1);
    let mut counts = vec![0usize; bins as usize + 1];
    for v in lat {
        counts[(v / width) as usize] += 1;
    }
    let max_count = counts.iter().copied().max().unwrap_or(1).max(1);
    let mut hist = ChartBuilder::on(&bottom)
        .caption(LATENCY_TITLE, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0u64..width * (bins + 1), 0usize..max_count + 1)
        .map_err(|e| err(e.to_string()))?;
    hist.configure_mesh()
        .x_desc("ms")
        .y_desc("pods")
        .draw()
        .map_err(|e| err(e.to_string()))?;
    hist.draw_series(counts.iter().enumerate().map(|(i, c)| {
        let x0 = i as u64 * width;
        Rectangle::new([(x0, 0), (x0 + width, *c)], BLUE.mix(0.6).filled())
    }))
    .map_err(|e| err(e.to_string()))?
    .label("pods per latency bin")
    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], BLUE.mix(0.6).filled()));
    hist.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(e.to_string()))?;
    root.present().map_err(|e| err(e.to_string()))?;
    Ok(())
}
