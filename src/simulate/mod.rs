//! Synthetic FISH slides with exact ground truth.
