//! Gemini CLI (npm `@google/gemini-cli`).

pub mod history;
