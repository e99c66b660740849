//! The Delaunay mesh of a shape.

use cf_align::Point;

/// The Delaunay triangles of `points`, as index triples, counter-clockwise in a y-up frame
/// (clockwise on screen); none when every point is on one line. Delaunay's triangles are the
/// least sliver-like, so each piece of the warp stretches the picture least.
pub fn triangulate(points: &[Point]) -> Vec<[usize; 3]> {
    let points: Vec<delaunator::Point> = points
        .iter()
        .map(|p| delaunator::Point {
            x: f64::from(p.x),
            y: f64::from(p.y),
        })
        .collect();
    delaunator::triangulate(&points)
        .triangles
        .chunks_exact(3)
        .map(|t| [t[0], t[1], t[2]])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_with_its_centre_is_four_triangles_and_a_line_none() {
        let square = [
            Point::new(0.0, 0.0),
            Point::new(10.0, 0.0),
            Point::new(10.0, 10.0),
            Point::new(0.0, 10.0),
            Point::new(5.0, 5.0),
        ];
        let triangles = triangulate(&square);
        assert_eq!(triangles.len(), 4);
        assert!(triangles.iter().all(|t| t.contains(&4)));
        let line: Vec<Point> = (0..5)
            .map(|i| Point::new(i as f32, 2.0 * i as f32))
            .collect();
        assert!(triangulate(&line).is_empty());
    }
}
