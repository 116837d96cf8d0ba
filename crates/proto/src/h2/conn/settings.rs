//! SETTINGS bookkeeping (RFC 9113 §6.5): the peer's values as they arrive, and ours, which
//! are in force only once acknowledged (§6.5.3).
//!
//! Our limits are enforced at the most permissive of the acknowledged value and every value
//! still waiting for its ACK: a raised limit may be used by the peer as soon as it processes
//! our SETTINGS (before we see the ACK), and a lowered one binds it only after. So lowering
//! takes effect at the ACK, raising at once.

use std::collections::VecDeque;
use std::time::Instant;

use crate::h2::PeerError;
use crate::h2::frame::{DEFAULT_MAX_FRAME_SIZE, SettingId, Settings};

use super::flow::DEFAULT_WINDOW;

/// The values of one side's SETTINGS, protocol defaults filled in (§6.5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerSettings {
    /// SETTINGS_HEADER_TABLE_SIZE (default 4,096).
    pub header_table_size: u32,
    /// SETTINGS_ENABLE_PUSH (default true).
    pub enable_push: bool,
    /// SETTINGS_MAX_CONCURRENT_STREAMS (default unlimited).
    pub max_concurrent_streams: Option<u32>,
    /// SETTINGS_INITIAL_WINDOW_SIZE (default 65,535).
    pub initial_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE (default 16,384).
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE (default unlimited).
    pub max_header_list_size: Option<u32>,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (default false; RFC 8441).
    pub enable_connect_protocol: bool,
    /// Every parameter received, in order, across all SETTINGS frames (unknown ones
    /// included).
    pub received: Vec<(SettingId, u32)>,
}

impl Default for PeerSettings {
    fn default() -> Self {
        PeerSettings {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: None,
            initial_window_size: DEFAULT_WINDOW,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: None,
            enable_connect_protocol: false,
            received: Vec::new(),
        }
    }
}

impl PeerSettings {
    /// Applies parameters in order (§6.5.3: the last value of an id wins).
    pub(crate) fn apply(&mut self, params: &[(SettingId, u32)]) {
        for &(id, value) in params {
            match id {
                SettingId::HEADER_TABLE_SIZE => self.header_table_size = value,
                SettingId::ENABLE_PUSH => self.enable_push = value == 1,
                SettingId::MAX_CONCURRENT_STREAMS => self.max_concurrent_streams = Some(value),
                SettingId::INITIAL_WINDOW_SIZE => self.initial_window_size = value,
                SettingId::MAX_FRAME_SIZE => self.max_frame_size = value,
                SettingId::MAX_HEADER_LIST_SIZE => self.max_header_list_size = Some(value),
                SettingId::ENABLE_CONNECT_PROTOCOL => self.enable_connect_protocol = value == 1,
                _ => {}
            }
        }
    }

    /// Merges another set of values by taking the more permissive of each limit.
    fn widen(&mut self, other: &PeerSettings) {
        self.header_table_size = self.header_table_size.max(other.header_table_size);
        self.max_concurrent_streams =
            match (self.max_concurrent_streams, other.max_concurrent_streams) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        self.max_frame_size = self.max_frame_size.max(other.max_frame_size);
        self.max_header_list_size = match (self.max_header_list_size, other.max_header_list_size) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        self.enable_connect_protocol |= other.enable_connect_protocol;
        self.enable_push |= other.enable_push;
    }
}

/// Checks a SETTINGS frame against our protection limits: too many entries, or (when asked)
/// the same identifier twice.
pub(crate) fn check_flood(
    settings: &Settings,
    max_entries: usize,
    reject_duplicates: bool,
) -> Result<(), PeerError> {
    if settings.params.len() > max_entries {
        return Err(PeerError::SettingsFlood);
    }
    if !reject_duplicates {
        return Ok(());
    }
    for (i, (id, _)) in settings.params.iter().enumerate() {
        if settings.params[..i].iter().any(|(other, _)| other == id) {
            return Err(PeerError::SettingsFlood);
        }
    }
    Ok(())
}

/// Our SETTINGS: acknowledged values and those in flight.
#[derive(Debug)]
pub(crate) struct LocalSettings {
    acked: PeerSettings,
    pending: VecDeque<(Vec<(SettingId, u32)>, Instant)>,
    effective: PeerSettings,
}

impl LocalSettings {
    pub(crate) fn new() -> Self {
        LocalSettings {
            acked: PeerSettings::default(),
            pending: VecDeque::new(),
            effective: PeerSettings::default(),
        }
    }

    /// Records SETTINGS we sent, due to be acknowledged by `deadline`.
    pub(crate) fn sent(&mut self, params: Vec<(SettingId, u32)>, deadline: Instant) {
        self.pending.push_back((params, deadline));
        self.recompute();
    }

    /// The peer acknowledged our oldest SETTINGS; returns its parameters (to apply
    /// receive-side changes), or `None` for an ACK we did not ask for.
    pub(crate) fn acked(&mut self) -> Option<Vec<(SettingId, u32)>> {
        let (params, _) = self.pending.pop_front()?;
        self.acked.apply(&params);
        self.recompute();
        Some(params)
    }

    fn recompute(&mut self) {
        let mut effective = self.acked.clone();
        for (params, _) in &self.pending {
            let mut next = self.acked.clone();
            next.apply(params);
            effective.widen(&next);
        }
        self.effective = effective;
    }

    /// Values in force (acknowledged).
    pub(crate) fn acked_values(&self) -> &PeerSettings {
        &self.acked
    }

    /// Limits to enforce: the most permissive of acknowledged and pending values.
    pub(crate) fn limits(&self) -> &PeerSettings {
        &self.effective
    }

    /// When the oldest unacknowledged SETTINGS times out.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.pending.front().map(|&(_, t)| t)
    }
}
