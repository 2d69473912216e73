//! The end-of-stream policy: when a connection's relay half-closes, keeps going or stops, and why.
//!
//! Written once, as a pure state machine, and used by every copy loop ([`super::engine`]): one
//! connection, each client of a `-k`, echo, broker or chat server. It does no I/O and reads no
//! clock: the engine tells it what happened ([`Event`]) and when, and does what it answers
//! ([`Action`]); between events it asks which sides to read and when the next deadline is.
//!
//! The rules ("up" is what we send: stdin, the REPL, a client's queue or its echo; "down" is what
//! the peer sends):
//! - up ends: half-close (shut our write side) unless `half_close` is off; then keep receiving until
//!   the peer closes. With `send_only`, stop. With `quit_after_eof`, stop that long after anyway.
//! - the peer closes its side: stop at once when up has ended, failed or was never read; otherwise
//!   as [`AfterPeer`] says (a terminal stops; a pipe still delivering is sent until it goes quiet; a
//!   client of a server gets what is queued for it, then is released).
//! - `idle_timeout`: stop with an error once no byte moved either way for that long.
//! - a send fails (the peer reset the connection): stop reading up; keep receiving what the peer
//!   still sends until it closes, then fail with the send's error. If the peer had closed already,
//!   or only sending was asked for, that is the end.
//! - the connection is lost (a read fails): fail with that error.
//! - a signal: stop (the engine then delivers what it holds, within a bound).

use std::fmt;
use std::time::{Duration, Instant};

/// How a relay behaves at the ends of its streams.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// Shut our write side when up ends (off: `--no-shutdown`).
    pub half_close: bool,
    /// Stop this long after up ended (`-q`).
    pub quit_after_eof: Option<Duration>,
    /// Stop with an error after this long without a byte either way (`-i`).
    pub idle_timeout: Option<Duration>,
    /// Only sending matters: stop when up ends (`--send-only`).
    pub send_only: bool,
    /// What the peer closing means while up is still open.
    pub after_peer: AfterPeer,
}

/// What happens when the peer closes while up may still have bytes to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterPeer {
    /// Stop at once: up is a person at a terminal, who has nothing queued.
    Stop,
    /// Send what is queued now, then stop: a client of a `-k` server (as `ncat -k` does).
    Drain,
    /// Keep sending while up keeps delivering; stop once it is quiet for this long: a pipe or file
    /// on stdin (the peer may only have half-closed), a client between other clients.
    Linger(Duration),
    /// Keep going until up ends too, however long: a relay between two sockets, where each side's
    /// end is passed on to the other and the connection lasts until both have ended.
    Continue,
}

/// Why a relay ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The peer closed its side.
    PeerClosed,
    /// `-q` expired after up ended.
    QuitAfterEof,
    /// `--send-only` and up ended.
    SendDone,
    /// A signal asked us to stop.
    Interrupted,
}

/// Why a relay failed: one wording for each, whatever the copy loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// `-i`: nothing moved for this long.
    Idle(Duration),
    /// A read from the peer failed (a reset).
    Lost(String),
    /// A send to the peer failed; what up still had was not delivered.
    SendFailed(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Idle(d) => write!(
                f,
                "no data for {} (idle timeout)",
                humantime::format_duration(*d)
            ),
            Failure::Lost(e) => write!(f, "connection lost: {e}"),
            Failure::SendFailed(e) => write!(f, "could not send: {e}"),
        }
    }
}

impl std::error::Error for Failure {}

/// What happened, as the engine tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// Bytes of up were sent.
    Sent,
    /// Up ended (stdin's end of file).
    UpEnded,
    /// While draining ([`Read::Drain`]): up has nothing more queued right now.
    UpEmpty,
    /// Bytes came from the peer.
    Received,
    /// The peer closed its write side.
    PeerEnded,
    /// A read from the peer failed.
    Lost(String),
    /// A send to the peer failed.
    SendFailed(String),
    /// A deadline may have passed.
    Tick,
    /// A signal asked us to stop.
    Interrupt,
}

/// What the engine is to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Shut our write side (send EOF).
    HalfClose,
    /// The peer's end goes on to where its bytes go (a relay's other socket is shut for writing).
    PassEnd,
    /// Say this on stderr with `-v`.
    Note(String),
    /// The relay is over.
    Stop(Result<End, Failure>),
}

/// How up is to be read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Wait for up's next bytes.
    Wait,
    /// Take only what is queued already; report [`Event::UpEmpty`] when nothing is.
    Drain,
    /// Do not read up.
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Up {
    Open,
    Ended,
    Failed(String),
}

/// The state of one relay. See the module docs.
#[derive(Debug)]
pub(crate) struct Policy {
    rules: Rules,
    up: Up,
    peer_ended: bool,
    draining: bool,
    /// When a byte last moved either way (kept only with an idle timeout).
    last_activity: Instant,
    /// [`AfterPeer::Linger`]: when up last delivered since the peer closed.
    linger_from: Option<Instant>,
    quit_at: Option<Instant>,
    over: bool,
}

impl Policy {
    /// A relay starting at `now`; `has_up` is false when nothing is sent (`--recv-only`).
    pub(crate) fn new(rules: Rules, has_up: bool, now: Instant) -> Policy {
        Policy {
            rules,
            up: if has_up { Up::Open } else { Up::Ended },
            peer_ended: false,
            draining: false,
            last_activity: now,
            linger_from: None,
            quit_at: None,
            over: false,
        }
    }

    /// How to read up now.
    pub(crate) fn read_up(&self) -> Read {
        match (&self.up, self.draining) {
            _ if self.over => Read::Off,
            (Up::Open, false) => Read::Wait,
            (Up::Open, true) => Read::Drain,
            _ => Read::Off,
        }
    }

    /// Whether to read the peer now.
    pub(crate) fn read_peer(&self) -> bool {
        !self.over && !self.peer_ended
    }

    /// The next time something is due ([`Event::Tick`] then), if anything is.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if self.over {
            return None;
        }
        // A limit too far away for an Instant never comes.
        let idle = self
            .rules
            .idle_timeout
            .and_then(|d| self.last_activity.checked_add(d));
        let linger = match (self.linger_from, self.rules.after_peer) {
            (Some(t), AfterPeer::Linger(d)) => t.checked_add(d),
            _ => None,
        };
        [self.quit_at, idle, linger].into_iter().flatten().min()
    }

    /// Applies `event`, which happened at `now`; returns what to do, in order.
    pub(crate) fn on(&mut self, event: Event, now: Instant) -> Vec<Action> {
        if self.over {
            return Vec::new();
        }
        let mut actions = Vec::new();
        match event {
            Event::Sent => {
                self.last_activity = now;
                if self.linger_from.is_some() {
                    self.linger_from = Some(now);
                }
            }
            Event::Received => self.last_activity = now,
            Event::UpEnded => self.up_ended(now, &mut actions),
            Event::UpEmpty => {
                if self.draining {
                    self.stop(Ok(End::PeerClosed), &mut actions);
                }
            }
            Event::PeerEnded => self.peer_ended(now, &mut actions),
            Event::Lost(e) => self.stop(Err(Failure::Lost(e)), &mut actions),
            Event::SendFailed(e) => self.send_failed(e, &mut actions),
            Event::Tick => self.tick(now, &mut actions),
            Event::Interrupt => self.stop(Ok(End::Interrupted), &mut actions),
        }
        actions
    }

    fn stop(&mut self, result: Result<End, Failure>, actions: &mut Vec<Action>) {
        self.over = true;
        actions.push(Action::Stop(result));
    }

    /// The end when the peer has closed and up is over: a failed send is the relay's result.
    fn peer_closed_result(&self) -> Result<End, Failure> {
        match &self.up {
            Up::Failed(e) => Err(Failure::SendFailed(e.clone())),
            _ => Ok(End::PeerClosed),
        }
    }

    fn up_ended(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self.up != Up::Open {
            return;
        }
        self.up = Up::Ended;
        self.draining = false;
        if self.rules.half_close {
            actions.push(Action::HalfClose);
            actions.push(Action::Note(
                "stdin ended; sent EOF to the peer (half-close)".into(),
            ));
        } else {
            actions.push(Action::Note(
                "stdin ended; keeping the connection open (--no-shutdown)".into(),
            ));
        }
        if self.rules.send_only {
            return self.stop(Ok(End::SendDone), actions);
        }
        if self.peer_ended {
            return self.stop(Ok(End::PeerClosed), actions);
        }
        if let Some(d) = self.rules.quit_after_eof {
            self.quit_at = now.checked_add(d);
        }
    }

    fn peer_ended(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self.peer_ended {
            return;
        }
        self.peer_ended = true;
        actions.push(Action::Note("peer closed its write side".into()));
        actions.push(Action::PassEnd);
        if self.up != Up::Open {
            let result = self.peer_closed_result();
            return self.stop(result, actions);
        }
        match self.rules.after_peer {
            AfterPeer::Stop => self.stop(Ok(End::PeerClosed), actions),
            AfterPeer::Drain => self.draining = true,
            AfterPeer::Linger(_) => self.linger_from = Some(now),
            AfterPeer::Continue => {}
        }
    }

    fn send_failed(&mut self, e: String, actions: &mut Vec<Action>) {
        if self.up != Up::Open {
            return;
        }
        if self.peer_ended {
            // The peer closed completely: nothing more can be delivered.
            actions.push(Action::Note(
                "the peer closed; dropping the rest of stdin".into(),
            ));
            return self.stop(Ok(End::PeerClosed), actions);
        }
        if self.rules.send_only {
            return self.stop(Err(Failure::SendFailed(e)), actions);
        }
        // Whatever the peer still sends is still shown; its end is ours, and this error the result.
        actions.push(Action::Note(format!("could not send: {e} (still reading)")));
        self.up = Up::Failed(e);
        self.draining = false;
    }

    fn tick(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self.quit_at.is_some_and(|t| now >= t) {
            return self.stop(Ok(End::QuitAfterEof), actions);
        }
        if let Some(limit) = self.rules.idle_timeout {
            if self
                .last_activity
                .checked_add(limit)
                .is_some_and(|t| now >= t)
            {
                return self.stop(Err(Failure::Idle(limit)), actions);
            }
        }
        if let (Some(t), AfterPeer::Linger(d)) = (self.linger_from, self.rules.after_peer) {
            if t.checked_add(d).is_some_and(|t| now >= t) {
                // The peer closed and up has stayed quiet since: nothing keeps us here.
                self.stop(Ok(End::PeerClosed), actions);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(1);

    fn rules(after_peer: AfterPeer) -> Rules {
        Rules {
            half_close: true,
            quit_after_eof: None,
            idle_timeout: None,
            send_only: false,
            after_peer,
        }
    }

    fn stops(actions: &[Action]) -> Option<&Result<End, Failure>> {
        actions.iter().find_map(|a| match a {
            Action::Stop(r) => Some(r),
            _ => None,
        })
    }

    /// Runs `events` (each at a time offset in ms) and returns the stop, if any, and whether a
    /// half-close was asked for.
    fn play(
        r: Rules,
        has_up: bool,
        events: &[(u64, Event)],
    ) -> (Option<Result<End, Failure>>, bool) {
        let t0 = Instant::now();
        let mut p = Policy::new(r, has_up, t0);
        let mut half = false;
        for (ms, ev) in events {
            let now = t0 + Duration::from_millis(*ms);
            // The engine ticks whenever a deadline passes before the next event.
            if p.deadline().is_some_and(|d| d <= now) {
                let a = p.on(Event::Tick, p.deadline().unwrap());
                if let Some(s) = stops(&a) {
                    return (Some(s.clone()), half);
                }
            }
            let a = p.on(ev.clone(), now);
            half |= a.contains(&Action::HalfClose);
            if let Some(s) = stops(&a) {
                return (Some(s.clone()), half);
            }
        }
        (None, half)
    }

    #[test]
    fn up_end_half_closes_then_waits_for_the_peer() {
        for after in [AfterPeer::Stop, AfterPeer::Drain, AfterPeer::Linger(GRACE)] {
            let (end, half) = play(
                rules(after),
                true,
                &[(0, Event::UpEnded), (10_000, Event::Received)],
            );
            assert_eq!(end, None, "{after:?}");
            assert!(half);
            let (end, _) = play(
                rules(after),
                true,
                &[(0, Event::UpEnded), (5, Event::PeerEnded)],
            );
            assert_eq!(end, Some(Ok(End::PeerClosed)));
        }
    }

    #[test]
    fn no_shutdown_keeps_the_write_side() {
        let r = Rules {
            half_close: false,
            ..rules(AfterPeer::Stop)
        };
        let (end, half) = play(r, true, &[(0, Event::UpEnded)]);
        assert_eq!(end, None);
        assert!(!half);
    }

    #[test]
    fn peer_end_per_kind_of_up() {
        // Not reading up at all (--recv-only): the peer's end is ours.
        assert_eq!(
            play(
                rules(AfterPeer::Linger(GRACE)),
                false,
                &[(0, Event::PeerEnded)]
            )
            .0,
            Some(Ok(End::PeerClosed))
        );
        // A terminal: at once.
        assert_eq!(
            play(rules(AfterPeer::Stop), true, &[(0, Event::PeerEnded)]).0,
            Some(Ok(End::PeerClosed))
        );
        // A -k client: what is queued goes out, then it is released.
        let t0 = Instant::now();
        let mut p = Policy::new(rules(AfterPeer::Drain), true, t0);
        assert!(stops(&p.on(Event::PeerEnded, t0)).is_none());
        assert_eq!(p.read_up(), Read::Drain);
        assert!(stops(&p.on(Event::Sent, t0)).is_none());
        assert_eq!(stops(&p.on(Event::UpEmpty, t0)), Some(&Ok(End::PeerClosed)));
        // A pipe: kept while it delivers, stopped after a quiet grace.
        let (end, _) = play(
            rules(AfterPeer::Linger(GRACE)),
            true,
            &[
                (0, Event::PeerEnded),
                (900, Event::Sent),
                (1800, Event::Sent),
                (2700, Event::Sent),
            ],
        );
        assert_eq!(end, None, "still delivering");
        let (end, _) = play(
            rules(AfterPeer::Linger(GRACE)),
            true,
            &[
                (0, Event::PeerEnded),
                (900, Event::Sent),
                (2000, Event::Sent),
            ],
        );
        assert_eq!(
            end,
            Some(Ok(End::PeerClosed)),
            "quiet for more than the grace"
        );
        // The pipe ends before the grace does.
        let (end, half) = play(
            rules(AfterPeer::Linger(GRACE)),
            true,
            &[(0, Event::PeerEnded), (100, Event::UpEnded)],
        );
        assert_eq!(end, Some(Ok(End::PeerClosed)));
        assert!(half);
    }

    #[test]
    fn a_relay_passes_each_end_on_and_lasts_until_both() {
        let t0 = Instant::now();
        let mut p = Policy::new(rules(AfterPeer::Continue), true, t0);
        let a = p.on(Event::PeerEnded, t0);
        assert!(a.contains(&Action::PassEnd) && stops(&a).is_none());
        assert_eq!(p.read_up(), Read::Wait, "the other side still flows");
        assert!(stops(&p.on(Event::Sent, t0 + Duration::from_secs(60))).is_none());
        let a = p.on(Event::UpEnded, t0 + Duration::from_secs(61));
        assert!(a.contains(&Action::HalfClose));
        assert_eq!(stops(&a), Some(&Ok(End::PeerClosed)));
    }

    #[test]
    fn quit_after_eof_and_send_only() {
        let r = Rules {
            quit_after_eof: Some(Duration::from_millis(500)),
            ..rules(AfterPeer::Stop)
        };
        assert_eq!(
            play(r, true, &[(0, Event::UpEnded), (400, Event::Received)]).0,
            None
        );
        assert_eq!(
            play(r, true, &[(0, Event::UpEnded), (600, Event::Received)]).0,
            Some(Ok(End::QuitAfterEof))
        );
        let r = Rules {
            send_only: true,
            ..rules(AfterPeer::Linger(GRACE))
        };
        assert_eq!(
            play(r, true, &[(0, Event::UpEnded)]),
            (Some(Ok(End::SendDone)), true)
        );
        assert_eq!(
            play(r, true, &[(0, Event::SendFailed("reset".into()))]).0,
            Some(Err(Failure::SendFailed("reset".into())))
        );
    }

    #[test]
    fn idle_timeout_counts_both_directions() {
        let r = Rules {
            idle_timeout: Some(Duration::from_millis(300)),
            ..rules(AfterPeer::Stop)
        };
        let busy = [
            (200, Event::Sent),
            (400, Event::Received),
            (600, Event::Sent),
            (800, Event::Received),
        ];
        assert_eq!(play(r, true, &busy).0, None);
        let (end, _) = play(r, true, &[(200, Event::Sent), (600, Event::Received)]);
        assert_eq!(end, Some(Err(Failure::Idle(Duration::from_millis(300)))));
        assert_eq!(
            Failure::Idle(Duration::from_millis(300)).to_string(),
            "no data for 300ms (idle timeout)"
        );
    }

    #[test]
    fn a_failed_send_keeps_reading_then_fails() {
        for after in [AfterPeer::Stop, AfterPeer::Drain, AfterPeer::Linger(GRACE)] {
            let t0 = Instant::now();
            let mut p = Policy::new(rules(after), true, t0);
            let a = p.on(Event::SendFailed("broken pipe".into()), t0);
            assert!(stops(&a).is_none());
            assert_eq!(p.read_up(), Read::Off);
            assert!(p.read_peer());
            assert!(stops(&p.on(Event::Received, t0)).is_none());
            assert_eq!(
                stops(&p.on(Event::PeerEnded, t0)),
                Some(&Err(Failure::SendFailed("broken pipe".into())))
            );
        }
        // After the peer closed, a failed send is the end, not an error.
        let (end, _) = play(
            rules(AfterPeer::Linger(GRACE)),
            true,
            &[
                (0, Event::PeerEnded),
                (10, Event::SendFailed("reset".into())),
            ],
        );
        assert_eq!(end, Some(Ok(End::PeerClosed)));
    }

    #[test]
    fn lost_and_interrupt_stop_whatever_the_state() {
        for state in [vec![], vec![Event::UpEnded], vec![Event::PeerEnded]] {
            for (ev, want) in [
                (
                    Event::Lost("reset".into()),
                    Err(Failure::Lost("reset".into())),
                ),
                (Event::Interrupt, Ok(End::Interrupted)),
            ] {
                let t0 = Instant::now();
                let mut p = Policy::new(rules(AfterPeer::Linger(GRACE)), true, t0);
                for s in &state {
                    p.on(s.clone(), t0);
                }
                assert_eq!(stops(&p.on(ev.clone(), t0)), Some(&want));
                assert_eq!(p.read_up(), Read::Off);
                assert!(!p.read_peer());
                assert!(
                    p.on(Event::PeerEnded, t0).is_empty(),
                    "nothing after the stop"
                );
            }
        }
    }

    /// Every sequence of events ends at most once, never asks to read after its end, and gives a
    /// deadline only when a timer rule is pending.
    #[test]
    fn whole_matrix_is_consistent() {
        let events = [
            Event::Sent,
            Event::UpEnded,
            Event::UpEmpty,
            Event::Received,
            Event::PeerEnded,
            Event::SendFailed("x".into()),
            Event::Tick,
        ];
        let mut seqs: Vec<Vec<usize>> = vec![vec![]];
        for _ in 0..4 {
            seqs = seqs
                .iter()
                .flat_map(|s| (0..events.len()).map(move |e| [s.clone(), vec![e]].concat()))
                .collect();
        }
        for after in [
            AfterPeer::Stop,
            AfterPeer::Drain,
            AfterPeer::Linger(GRACE),
            AfterPeer::Continue,
        ] {
            for half_close in [false, true] {
                for send_only in [false, true] {
                    for seq in &seqs {
                        let r = Rules {
                            half_close,
                            send_only,
                            ..rules(after)
                        };
                        let t0 = Instant::now();
                        let mut p = Policy::new(r, true, t0);
                        let mut stopped = 0;
                        let mut halves = 0;
                        for (i, &e) in seq.iter().enumerate() {
                            let a = p.on(events[e].clone(), t0 + Duration::from_secs(i as u64 * 2));
                            stopped += a.iter().filter(|a| matches!(a, Action::Stop(_))).count();
                            halves += a.iter().filter(|a| **a == Action::HalfClose).count();
                        }
                        assert!(stopped <= 1, "{seq:?}");
                        assert!(halves <= 1, "{seq:?}");
                        assert!(half_close || halves == 0);
                        if stopped == 1 {
                            assert_eq!(p.read_up(), Read::Off);
                            assert!(!p.read_peer());
                            assert_eq!(p.deadline(), None);
                        }
                        // Both sides over means the relay is over.
                        let up_over = seq
                            .iter()
                            .any(|&e| matches!(events[e], Event::UpEnded | Event::SendFailed(_)));
                        let peer_over = seq.iter().any(|&e| events[e] == Event::PeerEnded);
                        if up_over && peer_over {
                            assert_eq!(stopped, 1, "{seq:?}");
                        }
                    }
                }
            }
        }
    }
}
