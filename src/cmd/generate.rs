//! `sockkit generate --out-dir DIR`: completions and man pages from the clap definition (to be written).

use anyhow::Result;

use crate::cli::GenerateArgs;

pub fn run(_args: GenerateArgs) -> Result<()> {
    anyhow::bail!("not yet implemented")
}
