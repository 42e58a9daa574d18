//! `agentprof import gemini`: Gemini CLI's chat files as calls (being written).
