//! `hoviyat audit`: check the audit log's hash chain, print its head for
//! anchoring elsewhere, record the acceptance of a cut or edited end.

use hoviyat_server::audit::{self, Anchor};

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
        /// A head printed earlier by `hoviyat audit head` (SEQ:SHA256): the
        /// log must still hold that entry, unchanged.
        #[arg(long, value_name = "SEQ:SHA256")]
        anchor: Option<Anchor>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Print the chain's head as SEQ:SHA256 (from the log itself), to keep
    /// outside the data directory and pass to `verify --anchor` later.
    Head {
        #[command(flatten)]
        data: DataDir,
        /// Print one JSON object: `anchor` (SEQ:SHA256), `seq`, `sha256` and
        /// whether the chain is `intact`.
        #[arg(long)]
        json: bool,
    },
    /// With the service stopped: accept a log whose end does not match
    /// audit.head (after restoring what can be restored), by appending an
    /// entry that names the old head and the log's end. The service refuses
    /// to start until this is done.
    Reanchor {
        #[command(flatten)]
        data: DataDir,
        /// Who accepts it (recorded in the entry).
        #[arg(long)]
        by: String,
        /// Print the entry written as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        AuditCommand::Verify { data, anchor, json } => {
            let report = audit::verify_anchored(&data.with_audit_log()?, anchor.as_ref())?;
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
        AuditCommand::Head { data, json } => {
            let report = audit::verify(&data.with_audit_log()?)?;
            let anchor = format!("{}:{}", report.entries, report.head_sha256);
            if json {
                let line = serde_json::json!({
                    "anchor": anchor,
                    "seq": report.entries,
                    "sha256": report.head_sha256,
                    "intact": report.intact,
                });
                println!("{line}");
            } else {
                println!("{anchor}");
            }
            if !report.intact {
                eprintln!(
                    "warning: the chain is broken; run `hoviyat audit verify` before anchoring this head"
                );
            }
            Ok(())
        }
        AuditCommand::Reanchor { data, by, json } => {
            let dir = data.with_audit_log()?;
            anyhow::ensure!(
                !audit::verify(&dir)?.intact,
                "the audit log is intact and audit.head names its end: nothing to reanchor"
            );
            let entry = audit::AuditLog::reanchor(&dir, &by)?;
            if json {
                println!("{}", serde_json::to_string(&entry)?);
                return Ok(());
            }
            println!(
                "recorded as entry {}: {}",
                entry.seq,
                entry.event.comment.unwrap_or_default()
            );
            Ok(())
        }
    }
}
