//! Accuracy of a result folder against simulator ground truth.
