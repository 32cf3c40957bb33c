//! `hoviyat audit verify`: check the audit log's hash chain.

use hoviyat_server::audit;

use super::DataDir;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Walk the chain; exits non-zero if any entry was edited or removed.
    Verify {
        #[command(flatten)]
        data: DataDir,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        AuditCommand::Verify { data, json } => {
            let report = audit::verify(&data.path())?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else if report.intact {
                println!(
                    "audit log intact: {} entries, head {}",
                    report.entries, report.head_sha256
                );
            }
            match report.first_break {
                None => Ok(()),
                Some(b) if b.line == 0 => {
                    anyhow::bail!("audit log broken at its end: {}", b.reason)
                }
                Some(b) => anyhow::bail!("audit log broken at line {}: {}", b.line, b.reason),
            }
        }
    }
}
