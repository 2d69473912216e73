//! `sockkit lab-client` (to be written).

use anyhow::Result;

use crate::cli::LabClientArgs;
use crate::error::ExitCode;
use crate::output::Output;

pub async fn run(_args: LabClientArgs, _out: Output) -> Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
