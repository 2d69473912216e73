//! `sockkit udp-send` (to be written).

use anyhow::Result;

use crate::cli::UdpSendArgs;
use crate::error::ExitCode;
use crate::output::Output;

pub async fn run(_args: UdpSendArgs, _out: Output) -> Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
