//! Enums that keep working when the API adds a value: known values typed, unknown ones kept.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A string enum from the spec that tolerates values added after this crate was built.
///
/// Every named enum of `openapi.yaml` is generated as `OpenEnum<XKnown>`: a response carrying a
/// new value still deserializes (as `Unknown`) and serializes back unchanged.
///
/// ```
/// use opentrain::{OpenEnum, types::ApprovalStatusKnown};
/// let s: OpenEnum<ApprovalStatusKnown> = serde_json::from_str("\"pending\"").unwrap();
/// assert_eq!(s, OpenEnum::Known(ApprovalStatusKnown::Pending));
/// let new: OpenEnum<ApprovalStatusKnown> = serde_json::from_str("\"paused\"").unwrap();
/// assert_eq!(new.as_str(), "paused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OpenEnum<T> {
    /// A value this crate knows.
    Known(T),
    /// A value added to the API later, kept verbatim.
    Unknown(String),
}

impl<T> OpenEnum<T> {
    /// The known value, if it is one.
    pub fn known(&self) -> Option<&T> {
        match self {
            Self::Known(t) => Some(t),
            Self::Unknown(_) => None,
        }
    }
}

impl<T: fmt::Display> OpenEnum<T> {
    /// The wire value.
    pub fn as_str(&self) -> String {
        self.to_string()
    }
}

/// The spec's declared default (`default:` on the enum schema), as a known value.
impl<T: Default> Default for OpenEnum<T> {
    fn default() -> Self {
        Self::Known(T::default())
    }
}

impl<T> From<T> for OpenEnum<T> {
    fn from(t: T) -> Self {
        Self::Known(t)
    }
}

impl<T: fmt::Display> fmt::Display for OpenEnum<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Known(t) => t.fmt(f),
            Self::Unknown(s) => f.write_str(s),
        }
    }
}

impl<T: FromStr> FromStr for OpenEnum<T> {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.parse::<T>().map(Self::Known).unwrap_or_else(|_| Self::Unknown(s.to_string())))
    }
}
