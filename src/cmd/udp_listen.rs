//! `sockkit udp-listen` (to be written).

use anyhow::Result;

use crate::cli::UdpListenArgs;
use crate::error::ExitCode;
use crate::output::Output;

pub async fn run(_args: UdpListenArgs, _out: Output) -> Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
