//! `hoviyat eval faces`: leave-one-out rank-1, genuine/impostor score
//! statistics and EER of face templates in a JSON-lines file.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use hoviyat_benches::face_eval::{MeanChoice, evaluate_faces};

/// Options of `eval faces`.
#[derive(Debug, Args)]
pub struct FaceEvalArgs {
    /// JSON-lines file: {"identity": .., "image": .., "embedding": [..]} per line.
    #[arg(long)]
    pub dataset: PathBuf,
    /// Mean subtracted before the cosine.
    #[arg(long, value_enum, default_value_t = MeanArg::Whole)]
    pub mean: MeanArg,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// `--mean` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MeanArg {
    /// Raw cosine.
    None,
    /// Mean of every template in the file.
    Whole,
    /// Mean of every template except those compared.
    LeaveOneOut,
}

pub fn run_faces(a: FaceEvalArgs) -> anyhow::Result<()> {
    let mean = match a.mean {
        MeanArg::None => MeanChoice::None,
        MeanArg::Whole => MeanChoice::Whole,
        MeanArg::LeaveOneOut => MeanChoice::LeaveOneOut,
    };
    let r = evaluate_faces(&a.dataset, mean)
        .with_context(|| format!("eval faces {}", a.dataset.display()))?;
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{}: {} templates, {} identities, d={}; leave-one-out rank-1 {}/{} ({:.3}); \
             genuine {:.3} +- {:.3} (n={}), impostor {:.3} +- {:.3} (n={}); EER {:.4}",
            r.dataset,
            r.templates,
            r.identities,
            r.dim,
            r.rank1_hits,
            r.searches,
            r.rank1,
            r.genuine.mean,
            r.genuine.sd,
            r.genuine.count,
            r.impostor.mean,
            r.impostor.sd,
            r.impostor.count,
            r.verification.eer,
        );
    }
    Ok(())
}
