//! Default parameter values: the `today-200k` preset (a test keeps the two equal), which is
//! where every number is sourced; other presets list only what they change.

use super::{
    AwaySummary, CacheTtl, Compaction, CompactionCheck, Dream, Extraction, Interactive,
    ModelParams, Ram, Scenario, Subagents, Timing, TurnShape, Utility, Wake,
};

const MB: u64 = 1_000_000;
const GIB: u64 = 1 << 30;

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "custom".into(),
            description: String::new(),
            sessions: 100,
            agents: 1,
            days: 5.0,
            trials: 0,
            seed: 1,
            daemon: false,
            kv_profile: crate::attribute::kv::DEFAULT_PROFILE.into(),
            model: ModelParams::default(),
            compaction: Compaction::default(),
            interactive: Interactive::default(),
            turn: TurnShape::default(),
            wake: Wake::default(),
            extraction: Extraction::default(),
            dream: Dream::default(),
            away_summary: AwaySummary::default(),
            utility: Utility::default(),
            subagents: Subagents::default(),
            timing: Timing::default(),
            ram: Ram::default(),
        }
    }
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            main: "claude-opus-5-5".into(),
            small: "claude-opus-5-5".into(),
            subagent: String::new(),
            context_window: 200_000,
            system_tokens: 18_000.0,
            message_overhead_tokens: 45.0,
            cache_ttl: CacheTtl::FiveMinutes,
            cache_hit_rate: 1.0,
        }
    }
}

impl Default for Compaction {
    fn default() -> Self {
        Compaction {
            threshold: 0.8,
            check: CompactionCheck::EveryCall,
            instruction_tokens: 400.0,
            summary_tokens: 6_000.0,
        }
    }
}

impl Default for Interactive {
    fn default() -> Self {
        Interactive {
            start_hour: 9.0,
            start_jitter_hours: 1.0,
            active_hours: 6.0,
            sessions_per_day: 2,
            close_at_end_of_day: true,
            turns_per_hour: 6.0,
            turns_per_hour_cv: 0.4,
        }
    }
}

impl Default for TurnShape {
    fn default() -> Self {
        TurnShape {
            prompt_tokens: 150.0,
            tool_calls: 6.0,
            tool_result_tokens: 1_200.0,
            output_tokens: 350.0,
            size_cv: 0.5,
            subagents: 0.2,
            utility_calls: 1.0,
        }
    }
}

impl Default for Wake {
    fn default() -> Self {
        Wake {
            minutes: 10.0,
            aligned: false,
            jitter_seconds: 0.0,
            restart_hours: 24.0,
            prompt_tokens: 200.0,
            tool_calls: 2.0,
            subagents: 0.0,
            utility_calls: 0.0,
        }
    }
}

impl Default for Extraction {
    fn default() -> Self {
        Extraction {
            enabled: true,
            probability: 1.0,
            instruction_tokens: 500.0,
            output_tokens: 600.0,
        }
    }
}

impl Default for Dream {
    fn default() -> Self {
        Dream {
            enabled: true,
            min_hours: 24.0,
            min_sessions: 5,
            min_session_turns: 1,
            instruction_tokens: 1_000.0,
            tokens_per_session: 3_000.0,
            output_tokens: 2_000.0,
        }
    }
}

impl Default for AwaySummary {
    fn default() -> Self {
        AwaySummary {
            enabled: true,
            idle_minutes: 20.0,
            instruction_tokens: 150.0,
            output_tokens: 250.0,
        }
    }
}

impl Default for Utility {
    fn default() -> Self {
        Utility {
            input_tokens: 300.0,
            output_tokens: 30.0,
        }
    }
}

impl Default for Subagents {
    fn default() -> Self {
        Subagents {
            system_tokens: 8_000.0,
            task_tokens: 600.0,
            calls: 8.0,
            tool_result_tokens: 1_500.0,
            output_tokens: 300.0,
            report_tokens: 800.0,
            separate_process: false,
            rss_bytes: 216 * MB,
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            call_seconds: 4.0,
            output_tokens_per_second: 60.0,
            tool_seconds: 6.0,
        }
    }
}

impl Default for Ram {
    fn default() -> Self {
        Ram {
            base_bytes: 207 * MB,
            growth_per_turn_bytes: 6.9e6,
            bytes_per_context_token: 0.0,
            growth_cv: 0.3,
            idle_growth_bytes_per_hour: 2e6,
            leak_probability: 0.02,
            leak_bytes_per_hour: 8.3e8,
            leak_cv: 1.0,
            process_cap_bytes: 32 * GIB,
            allowance_gib: 8.0,
            sample_seconds: 0.0,
        }
    }
}
