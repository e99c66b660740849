//! `cfaces`: builds, verifies and benchmarks CelebrityFaces indexes.

mod bench;
mod build_index;
mod dataset;
mod demo;
mod eval;
mod eval_detect;
mod eval_morph;
mod eval_turns;
mod faces;
mod index_dir;
mod labels;
mod pack_models;
mod probe_training;
mod query;
mod thumbnails;
mod vectors_io;
mod verify;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cfaces", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Benchmark the forest against the exact scan over a grid of parameters.
    Bench(bench::BenchArgs),
    /// Find every face in a photo: boxes and landmarks as JSON.
    Detect(faces::DetectArgs),
    /// Every face's embedding as JSON, with the time of each stage.
    Embed(faces::EmbedArgs),
    /// Cosine similarity of the largest faces of two photos.
    Compare(faces::CompareArgs),
    /// How good an embedding network is: LFW verification, identity retrieval, and look-alikes
    /// judged by human labels.
    Eval(eval::EvalArgs),
    /// How many annotated faces the detector finds, by size, and its false boxes per photo.
    EvalDetect(eval_detect::EvalDetectArgs),
    /// Whether faces lying on a side or upside down are found and read: a centred dataset's
    /// photos as they are and turned.
    EvalTurns(eval_turns::EvalTurnsArgs),
    /// Whether the morph means something: its middle frame's embedding against both faces'.
    EvalMorph(eval_morph::EvalMorphArgs),
    /// Build the index (manifest, shards, catalog) and thumbnails from a celebrity photo folder.
    BuildIndex(build_index::BuildArgs),
    /// Write a small index of synthetic vectors (for benchmarks and tests).
    BuildDemo(demo::DemoArgs),
    /// Pack the fetched models (ONNX, TensorFlow Lite) into the int8-weight files the pipeline loads.
    PackModels(pack_models::PackArgs),
    /// Cut the thumbnails and portraits again from the dataset, as the sources file beside the
    /// index says.
    Thumbnails(thumbnails::ThumbnailsArgs),
    /// Print the nearest items to one item's vector, as JSON.
    Query(query::QueryArgs),
    /// Check an index folder: lengths, checksums, headers and forest structure.
    Verify(verify::VerifyArgs),
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Bench(args) => bench::run(args),
        Command::BuildIndex(args) => build_index::run(args),
        Command::BuildDemo(args) => demo::run(args),
        Command::Detect(args) => faces::detect(args),
        Command::Compare(args) => faces::compare(args),
        Command::Embed(args) => faces::embed(args),
        Command::Eval(args) => eval::eval(args),
        Command::EvalDetect(args) => eval_detect::run(args),
        Command::EvalTurns(args) => eval_turns::run(args),
        Command::EvalMorph(args) => eval_morph::run(args),
        Command::PackModels(args) => pack_models::run(args),
        Command::Query(args) => query::run(args),
        Command::Thumbnails(args) => thumbnails::run(args),
        Command::Verify(args) => verify::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
