//! `sockkit lab-server` (to be written).

use anyhow::Result;

use crate::cli::LabServerArgs;
use crate::error::ExitCode;
use crate::output::Output;

pub async fn run(_args: LabServerArgs, _out: Output) -> Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
