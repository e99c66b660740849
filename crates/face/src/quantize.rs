//! Weight quantisation for the packed models: a float32 tensor becomes int8 values and one
//! float32 scale per slice along one axis (`value ≈ q × scale[slice]`, symmetric, no zero point).
//!
//! Which axis carries the scales differs by layout (a convolution's output channels are first in
//! OIHW, last in a TensorFlow Lite depthwise kernel), so every axis is tried and the one with the
//! smallest squared error kept: no knowledge of the operator is needed, and the choice is
//! deterministic, so packing the same model twice gives the same bytes.

/// A tensor stored as int8 with one scale per slice along `axis`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedTensor {
    pub values: Vec<i8>,
    /// One per index of `axis`.
    pub scales: Vec<f32>,
    pub axis: usize,
}

impl QuantizedTensor {
    /// The shape of the scale tensor: ones except `shape[axis]`, so that it broadcasts.
    pub fn scale_shape(&self, shape: &[usize]) -> Vec<usize> {
        let mut scale_shape = vec![1; shape.len()];
        scale_shape[self.axis] = shape[self.axis];
        scale_shape
    }

    /// The float values this stands for.
    pub fn dequantize(&self, shape: &[usize]) -> Vec<f32> {
        dequantize(&self.values, shape, &self.scales, &self.scale_shape(shape))
            .expect("a tensor quantised with this shape")
    }
}

/// The float values of int8 `values` (row-major, `shape`) with `scales` shaped `scale_shape`
/// (ones except along one axis, as [`QuantizedTensor::scale_shape`] gives). `None` when they do
/// not fit together. A function of its own even in a build that inlines freely: its loop is
/// what V8 optimises of a model's load, and a small function is optimised soon and cheaply.
#[inline(never)]
pub fn dequantize(
    values: &[i8],
    shape: &[usize],
    scales: &[f32],
    scale_shape: &[usize],
) -> Option<Vec<f32>> {
    if shape.iter().product::<usize>() != values.len()
        || scale_shape.len() != shape.len()
        || scale_shape.iter().product::<usize>() != scales.len()
    {
        return None;
    }
    if let [scale] = scales {
        return Some(values.iter().map(|&q| f32::from(q) * scale).collect());
    }
    let axis = scale_shape.iter().position(|&d| d != 1)?;
    let fits = scale_shape[axis] == shape[axis]
        && scale_shape
            .iter()
            .enumerate()
            .all(|(i, &d)| i == axis || d == 1);
    if !fits {
        return None;
    }
    // The values run along the axis in runs of `inner`, one scale per run, the runs cycling
    // through the scales: one index per run, not two divisions per value (a model's load in
    // the page waits for this).
    let inner: usize = shape[axis + 1..].iter().product();
    let mut floats = Vec::with_capacity(values.len());
    for (run, chunk) in values.chunks(inner.max(1)).enumerate() {
        let scale = scales[run % scales.len()];
        floats.extend(chunk.iter().map(|&q| f32::from(q) * scale));
    }
    Some(floats)
}

/// Quantises `values` (row-major, `shape`) along the axis with the least squared error. `None`
/// for an empty tensor or one with a non-finite value (nothing sensible to quantise).
pub fn quantize(values: &[f32], shape: &[usize]) -> Option<QuantizedTensor> {
    if values.is_empty()
        || shape.iter().product::<usize>() != values.len()
        || values.iter().any(|v| !v.is_finite())
    {
        return None;
    }
    (0..shape.len())
        .map(|axis| quantize_along(values, shape, axis))
        .map(|q| (squared_error(values, shape, &q), q))
        .min_by(|(a, _), (b, _)| a.total_cmp(b))
        .map(|(_, q)| q)
}

fn quantize_along(values: &[f32], shape: &[usize], axis: usize) -> QuantizedTensor {
    let slices = SliceIndex::new(shape, axis);
    let mut max_abs = vec![0f32; shape[axis]];
    for (i, v) in values.iter().enumerate() {
        let slice = slices.of(i);
        max_abs[slice] = max_abs[slice].max(v.abs());
    }
    // An all-zero slice keeps scale 1 so that dequantising never divides by zero.
    let scales: Vec<f32> = max_abs
        .iter()
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let values = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v / scales[slices.of(i)]).round().clamp(-127.0, 127.0) as i8)
        .collect();
    QuantizedTensor {
        values,
        scales,
        axis,
    }
}

fn squared_error(values: &[f32], shape: &[usize], q: &QuantizedTensor) -> f64 {
    values
        .iter()
        .zip(q.dequantize(shape))
        .map(|(v, d)| f64::from(v - d).powi(2))
        .sum()
}

/// Maps a flat row-major index to its index along one axis.
struct SliceIndex {
    inner: usize,
    len: usize,
}

impl SliceIndex {
    fn new(shape: &[usize], axis: usize) -> SliceIndex {
        SliceIndex {
            inner: shape[axis + 1..].iter().product(),
            len: shape[axis],
        }
    }

    fn of(&self, flat: usize) -> usize {
        (flat / self.inner) % self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_axis_whose_slices_differ_in_range() {
        // A row of large values and a row of small ones: one scale per row (axis 0) keeps the
        // small row almost exact, where one scale per column would round it to steps of 0.8.
        let shape = [2, 4];
        let values = [100.0, -100.0, 100.0, -100.0, 1.0, 2.0, 3.0, 4.0];
        let q = quantize(&values, &shape).unwrap();
        assert_eq!(q.axis, 0);
        assert_eq!(q.scale_shape(&shape), vec![2, 1]);
        for (v, b) in values.iter().zip(q.dequantize(&shape)) {
            assert!(
                (v - b).abs() <= v.abs().max(4.0) / 254.0,
                "{v} came back as {b}"
            );
        }

        // The same values transposed: now the columns carry the scales.
        let shape = [4, 2];
        let values = [100.0, 1.0, -100.0, 2.0, 100.0, 3.0, -100.0, 4.0];
        assert_eq!(quantize(&values, &shape).unwrap().axis, 1);
    }

    #[test]
    fn error_is_at_most_half_a_step_per_value() {
        let shape = [3, 5, 7];
        let values: Vec<f32> = (0..105)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let q = quantize(&values, &shape).unwrap();
        let slices = SliceIndex::new(&shape, q.axis);
        for (i, (v, b)) in values.iter().zip(q.dequantize(&shape)).enumerate() {
            assert!((v - b).abs() <= q.scales[slices.of(i)] / 2.0 + 1e-6);
        }
        assert!(
            q.values.iter().any(|&v| v == 127 || v == -127),
            "the range is used"
        );
    }

    #[test]
    fn dequantize_reads_the_axis_from_the_scale_shape() {
        let values = [1i8, 2, 3, 4, 5, 6];
        assert_eq!(
            dequantize(&values, &[2, 3], &[1.0, 10.0], &[2, 1]).unwrap(),
            vec![1.0, 2.0, 3.0, 40.0, 50.0, 60.0]
        );
        assert_eq!(
            dequantize(&values, &[2, 3], &[1.0, 10.0, 100.0], &[1, 3]).unwrap(),
            vec![1.0, 20.0, 300.0, 4.0, 50.0, 600.0]
        );
        assert_eq!(
            dequantize(&values, &[2, 3], &[0.5], &[1, 1]).unwrap(),
            vec![0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
        );
        assert_eq!(dequantize(&values, &[2, 3], &[1.0, 2.0], &[1, 2]), None);
        assert_eq!(dequantize(&values, &[2, 3], &[1.0; 6], &[2, 3]), None);
        assert_eq!(dequantize(&values, &[3, 3], &[1.0], &[1, 1]), None);
    }

    #[test]
    fn each_value_takes_the_scale_of_its_slice_along_an_inner_axis() {
        let shape = [2, 3, 4, 5];
        let values: Vec<i8> = (0..120).map(|i| (i * 37 % 255 - 127) as i8).collect();
        for axis in 0..shape.len() {
            let scales: Vec<f32> = (0..shape[axis]).map(|s| 0.5 + s as f32).collect();
            let mut scale_shape = [1; 4];
            scale_shape[axis] = shape[axis];
            let slices = SliceIndex::new(&shape, axis);
            let expected: Vec<f32> = values
                .iter()
                .enumerate()
                .map(|(i, &q)| f32::from(q) * scales[slices.of(i)])
                .collect();
            assert_eq!(
                dequantize(&values, &shape, &scales, &scale_shape).unwrap(),
                expected,
                "axis {axis}"
            );
        }
        assert_eq!(
            dequantize(&[], &[0, 3], &[1.0, 2.0, 3.0], &[1, 3]),
            Some(Vec::new())
        );
    }

    #[test]
    fn zero_slices_and_bad_input() {
        let q = quantize(&[0.0, 0.0, 1.0, -1.0], &[2, 2]).unwrap();
        assert_eq!(q.dequantize(&[2, 2]), vec![0.0, 0.0, 1.0, -1.0]);
        assert!(q.scales.iter().all(|s| *s > 0.0));
        assert_eq!(quantize(&[], &[0]), None);
        assert_eq!(quantize(&[1.0, f32::NAN], &[2]), None);
        assert_eq!(quantize(&[1.0, 2.0, 3.0], &[2, 2]), None);
    }
}
