//! opencode (npm `opencode-ai`): its history reader. The agent itself (pointing it at
//! agentprof, its rules) is another room's work.

pub mod history;
