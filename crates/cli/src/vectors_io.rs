//! Reading and writing vector files: NumPy `.npy` (f32, 2-D, C order) and `.fvecs`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};

/// Rows of equal length.
pub struct Matrix {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    pub fn rows(&self) -> usize {
        self.data.len() / self.dim
    }
}

/// Reads `.npy` or `.fvecs`, by extension.
pub fn read_matrix(path: &Path) -> Result<Matrix> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "npy" => read_npy(path),
        "fvecs" => read_fvecs(path),
        _ => bail!(
            "{}: unknown vector file type {ext:?} (expected .npy or .fvecs)",
            path.display()
        ),
    }
}

fn read_npy(path: &Path) -> Result<Matrix> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .with_context(|| format!("{}: not a valid .npy file", path.display()))?;
    let shape = npy.shape().to_vec();
    ensure!(
        shape.len() == 2,
        "{}: expected a 2-D array, found shape {shape:?}",
        path.display()
    );
    ensure!(
        npy.order() == npyz::Order::C,
        "{}: expected C (row-major) order",
        path.display()
    );
    let dim = shape[1] as usize;
    ensure!(dim > 0, "{}: rows have no columns", path.display());
    let data: Vec<f32> = npy
        .into_vec()
        .with_context(|| format!("{}: expected float32 values", path.display()))?;
    Ok(Matrix { dim, data })
}

fn read_fvecs(path: &Path) -> Result<Matrix> {
    let mut bytes = Vec::new();
    File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .read_to_end(&mut bytes)?;
    ensure!(bytes.len() >= 4, "{}: empty .fvecs file", path.display());
    let dim = u32::from_le_bytes(bytes[..4].try_into()?) as usize;
    ensure!(dim > 0, "{}: first row has dimension 0", path.display());
    let row_bytes = 4 + 4 * dim;
    ensure!(
        bytes.len() % row_bytes == 0,
        "{}: {} bytes is not a whole number of {dim}-d rows",
        path.display(),
        bytes.len()
    );
    let mut data = Vec::with_capacity(bytes.len() / row_bytes * dim);
    for (row, chunk) in bytes.chunks_exact(row_bytes).enumerate() {
        let this_dim = u32::from_le_bytes(chunk[..4].try_into()?) as usize;
        ensure!(
            this_dim == dim,
            "{}: row {row} has dimension {this_dim}, the first has {dim}",
            path.display()
        );
        data.extend(
            chunk[4..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
    }
    Ok(Matrix { dim, data })
}

/// Writes a 2-D f32 `.npy` file.
pub fn write_npy(path: &Path, matrix: &Matrix) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    use npyz::WriterBuilder;
    let mut writer = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(&[matrix.rows() as u64, matrix.dim as u64])
        .writer(BufWriter::new(file))
        .begin_nd()?;
    writer.extend(matrix.data.iter().copied())?;
    writer.finish()?;
    Ok(())
}
