//! `hoviyat keys add|list|revoke`: manage the service's API keys.

use anyhow::Context as _;
use hoviyat_server::keys::{self, Role};
use serde_json::json;

use super::DataDir;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Make a key; it is printed once, on stdout, and never stored.
    Add {
        #[command(flatten)]
        data: DataDir,
        /// enroller, investigator, adjudicator or admin; repeat for several.
        #[arg(long, required = true)]
        role: Vec<Role>,
        /// Who holds the key (recorded in the audit log).
        #[arg(long)]
        name: String,
        /// Print one JSON object instead of the bare key.
        #[arg(long)]
        json: bool,
    },
    /// List keys (ids, names, roles; never secrets).
    List {
        #[command(flatten)]
        data: DataDir,
        /// One JSON object per key.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id; a running service refuses it from its next request.
    Revoke {
        #[command(flatten)]
        data: DataDir,
        /// The key id (the part after `hvy_`).
        id: String,
        /// Print the revoked key as one JSON object (never its secret).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        KeysCommand::Add {
            data,
            role,
            name,
            json,
        } => {
            let dir = data.path();
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let (stored, key) = keys::add(&dir, &name, &role)?;
            if json {
                println!(
                    "{}",
                    json!({"id": stored.id, "name": stored.name, "roles": stored.roles, "key": key})
                );
            } else {
                println!("{key}");
                eprintln!(
                    "key {} for {} ({}) stored in {}; it is shown only this once",
                    stored.id,
                    stored.name,
                    roles(&stored.roles),
                    keys::keys_path(&dir).display()
                );
            }
        }
        KeysCommand::List { data, json } => {
            for k in keys::list(&data.existing()?)? {
                if json {
                    println!("{}", key_json(&k));
                } else {
                    let state = k
                        .revoked_at
                        .map_or_else(|| "active".to_owned(), |t| format!("revoked {t}"));
                    println!("{}  {}  {}  {}", k.id, k.name, roles(&k.roles), state);
                }
            }
        }
        KeysCommand::Revoke { data, id, json } => {
            let k = keys::revoke(&data.existing()?, &id)?;
            if json {
                println!("{}", key_json(&k));
            } else {
                eprintln!("revoked key {} ({})", k.id, k.name);
            }
        }
    }
    Ok(())
}

/// A stored key as `list --json` and `revoke --json` print it (never a
/// secret or its hash).
fn key_json(k: &keys::StoredKey) -> serde_json::Value {
    json!({"id": k.id, "name": k.name, "roles": k.roles,
           "created_at": k.created_at, "revoked_at": k.revoked_at})
}

fn roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(",")
}
