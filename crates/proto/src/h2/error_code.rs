//! HTTP/2 error codes (RFC 9113 §7), as carried by RST_STREAM and GOAWAY.
//!
//! A newtype over the 32-bit wire value: unknown codes are valid on the wire (§7: "Unknown or
//! unsupported error codes MUST NOT trigger any special behavior") and must round-trip.

use std::fmt;

/// An HTTP/2 error code (RFC 9113 §7). Unknown values are kept as they are.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(u32);

impl ErrorCode {
    /// Graceful shutdown or no error (0x0).
    pub const NO_ERROR: ErrorCode = ErrorCode(0x0);
    /// Unspecific protocol error (0x1).
    pub const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    /// Unexpected internal error (0x2).
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    /// Flow-control protocol violated (0x3).
    pub const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x3);
    /// SETTINGS not acknowledged in time (0x4).
    pub const SETTINGS_TIMEOUT: ErrorCode = ErrorCode(0x4);
    /// Frame received after the stream was half-closed (0x5).
    pub const STREAM_CLOSED: ErrorCode = ErrorCode(0x5);
    /// Frame with an invalid size (0x6).
    pub const FRAME_SIZE_ERROR: ErrorCode = ErrorCode(0x6);
    /// Stream refused before any application processing (0x7).
    pub const REFUSED_STREAM: ErrorCode = ErrorCode(0x7);
    /// Stream no longer needed (0x8).
    pub const CANCEL: ErrorCode = ErrorCode(0x8);
    /// Field-block compression state can no longer be maintained (0x9).
    pub const COMPRESSION_ERROR: ErrorCode = ErrorCode(0x9);
    /// CONNECT tunnel reset or closed abnormally (0xa).
    pub const CONNECT_ERROR: ErrorCode = ErrorCode(0xa);
    /// Peer exhibits behaviour that generates excessive load (0xb).
    pub const ENHANCE_YOUR_CALM: ErrorCode = ErrorCode(0xb);
    /// Transport properties below the minimum security requirements (0xc).
    pub const INADEQUATE_SECURITY: ErrorCode = ErrorCode(0xc);
    /// HTTP/1.1 is required instead of HTTP/2 (0xd).
    pub const HTTP_1_1_REQUIRED: ErrorCode = ErrorCode(0xd);

    /// The wire value.
    pub const fn as_u32(self) -> u32 {
        self.0
    }

    /// The RFC name of a known code, `None` for others.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "NO_ERROR",
            0x1 => "PROTOCOL_ERROR",
            0x2 => "INTERNAL_ERROR",
            0x3 => "FLOW_CONTROL_ERROR",
            0x4 => "SETTINGS_TIMEOUT",
            0x5 => "STREAM_CLOSED",
            0x6 => "FRAME_SIZE_ERROR",
            0x7 => "REFUSED_STREAM",
            0x8 => "CANCEL",
            0x9 => "COMPRESSION_ERROR",
            0xa => "CONNECT_ERROR",
            0xb => "ENHANCE_YOUR_CALM",
            0xc => "INADEQUATE_SECURITY",
            0xd => "HTTP_1_1_REQUIRED",
            _ => return None,
        })
    }
}

impl From<u32> for ErrorCode {
    fn from(value: u32) -> Self {
        ErrorCode(value)
    }
}

impl From<ErrorCode> for u32 {
    fn from(code: ErrorCode) -> Self {
        code.0
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "ErrorCode({:#x})", self.0),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn debug_known_and_unknown_codes_print_rfc_names_or_hex() {
        assert_eq!(
            format!("{:?}", ErrorCode::FLOW_CONTROL_ERROR),
            "FLOW_CONTROL_ERROR"
        );
        assert_eq!(
            format!("{:?}", ErrorCode::from(0x1234)),
            "ErrorCode(0x1234)"
        );
        assert_eq!(u32::from(ErrorCode::HTTP_1_1_REQUIRED), 0xd);
    }
}
