//! Latency against throughput, as an SVG chart: p50 and p99 at each rate of an open-loop
//! sweep, so a reader sees where latency turns up (the knee of the curve).

use plotters::prelude::*;
use std::path::Path;

/// One step of a sweep: what it achieved and how long answers took.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Draws `points` (in the order run) to `path`.
///
/// # Errors
/// The file cannot be written.
pub fn latency(path: &Path, title: &str, points: &[Point]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let max_x = points.iter().map(|p| p.throughput).fold(1.0, f64::max) * 1.1;
    let max_y = points.iter().map(|p| p.p99_ms).fold(1.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(draw)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)
        .map_err(draw)?;
    chart
        .configure_mesh()
        .x_desc("orders answered per second")
        .y_desc("latency, ms")
        .draw()
        .map_err(draw)?;
    let p50: Vec<(f64, f64)> = points.iter().map(|p| (p.throughput, p.p50_ms)).collect();
    let p99: Vec<(f64, f64)> = points.iter().map(|p| (p.throughput, p.p99_ms)).collect();
    for (name, color, series) in [("p50", BLUE, p50), ("p99", RED, p99)] {
        chart
            .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))
            .map_err(draw)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        chart
            .draw_series(
                series
                    .into_iter()
                    .map(|xy| Circle::new(xy, 3, color.filled())),
            )
            .map_err(draw)?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()
        .map_err(draw)?;
    root.present().map_err(draw)?;
    Ok(())
}

fn draw<E: std::fmt::Debug>(error: E) -> anyhow::Error {
    anyhow::anyhow!("drawing the chart: {error:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_is_drawn_with_both_percentiles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        let points = [
            Point {
                throughput: 100.0,
                p50_ms: 10.0,
                p99_ms: 20.0,
            },
            Point {
                throughput: 400.0,
                p50_ms: 30.0,
                p99_ms: 90.0,
            },
        ];
        latency(&path, "test", &points).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.contains("p99") && svg.contains("latency, ms"));
    }
}
