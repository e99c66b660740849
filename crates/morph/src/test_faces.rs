//! A face's 68 landmarks for the tests.

use cf_align::Point;

/// A frontal face's 68 points laid out around the template (good enough for geometry).
pub fn sample_landmarks() -> Vec<Point> {
    let mut points = Vec::with_capacity(68);
    // Jaw 0..17: a half ellipse from ear to ear through the chin.
    for i in 0..17 {
        let angle = std::f32::consts::PI * (i as f32 / 16.0);
        points.push(Point::new(
            128.0 - 70.0 * angle.cos(),
            120.0 + 85.0 * angle.sin(),
        ));
    }
    // Brows 17..27.
    for i in 0..10 {
        let x = if i < 5 {
            75.0 + 10.0 * i as f32
        } else {
            131.0 + 10.0 * (i - 5) as f32
        };
        points.push(Point::new(x, 95.0));
    }
    // Nose 27..36.
    for i in 0..4 {
        points.push(Point::new(128.0, 110.0 + 9.0 * i as f32));
    }
    for i in 0..5 {
        points.push(Point::new(116.0 + 6.0 * i as f32, 150.0));
    }
    // Eyes 36..48: six points around each centre.
    for centre in [96.0, 160.0] {
        for k in 0..6 {
            let angle = std::f32::consts::TAU * k as f32 / 6.0;
            points.push(Point::new(
                centre + 10.0 * angle.cos(),
                113.0 + 4.0 * angle.sin(),
            ));
        }
    }
    // Mouth 48..68: outer twelve, inner eight.
    for k in 0..12 {
        let angle = std::f32::consts::TAU * k as f32 / 12.0;
        points.push(Point::new(
            128.0 - 26.0 * angle.cos(),
            172.0 + 9.0 * angle.sin(),
        ));
    }
    for k in 0..8 {
        let angle = std::f32::consts::TAU * k as f32 / 8.0;
        points.push(Point::new(
            128.0 - 18.0 * angle.cos(),
            172.0 + 3.0 * angle.sin(),
        ));
    }
    points
}
