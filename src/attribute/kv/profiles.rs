//! Architecture profiles for the server KV model: which published architecture is assumed to
//! serve the traced calls, and how many bytes of KV cache one token costs on it.
//!
//! The served models' architectures are not public, so every KV figure is "as if served by
//! this open model"; `describe()` spells the assumption out and reports print it next to the
//! figures. The per-token formulas are:
//! - GQA: `2 (K and V) × layers × kv_heads × head_dim × bytes_per_element`
//! - MLA: `layers × (kv_lora_rank + rope_dim) × bytes_per_element` (one compressed latent plus
//!   the decoupled RoPE key per layer; no separate V).

/// The profile used when none is chosen.
pub const DEFAULT_PROFILE: &str = "llama-3.1-405b";

/// How a layer stores its KV cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attention {
    /// Grouped-query attention: a K and a V vector per KV head per layer.
    Gqa {
        layers: u32,
        kv_heads: u32,
        head_dim: u32,
    },
    /// Multi-head latent attention (DeepSeek): one latent vector plus a RoPE key per layer.
    Mla {
        layers: u32,
        kv_lora_rank: u32,
        rope_dim: u32,
    },
}

/// One assumed architecture at one KV-cache precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvProfile {
    pub name: &'static str,
    pub attention: Attention,
    pub bytes_per_element: u32,
    /// Precision label of the cache elements (`bf16`, `fp8`).
    pub dtype: &'static str,
}

/// A name that matches no profile; its message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown KV profile \"{name}\"; valid profiles: {}", KvProfile::names().join(", "))]
pub struct UnknownProfile {
    pub name: String,
}

const fn gqa(
    name: &'static str,
    layers: u32,
    kv_heads: u32,
    head_dim: u32,
    fp8: bool,
) -> KvProfile {
    KvProfile {
        name,
        attention: Attention::Gqa {
            layers,
            kv_heads,
            head_dim,
        },
        bytes_per_element: if fp8 { 1 } else { 2 },
        dtype: if fp8 { "fp8" } else { "bf16" },
    }
}

const fn mla(
    name: &'static str,
    layers: u32,
    kv_lora_rank: u32,
    rope_dim: u32,
    fp8: bool,
) -> KvProfile {
    KvProfile {
        name,
        attention: Attention::Mla {
            layers,
            kv_lora_rank,
            rope_dim,
        },
        bytes_per_element: if fp8 { 1 } else { 2 },
        dtype: if fp8 { "fp8" } else { "bf16" },
    }
}

/// Index of `DEFAULT_PROFILE` in `PROFILES` (a test keeps the two in step).
const DEFAULT_INDEX: usize = 4;

/// Parameters from each model's published config (`num_hidden_layers`,
/// `num_key_value_heads`, `head_dim`; DeepSeek-V3's `kv_lora_rank`, `qk_rope_head_dim`).
static PROFILES: [KvProfile; 10] = [
    gqa("llama-3.1-8b", 32, 8, 128, false),
    gqa("llama-3.1-8b-fp8", 32, 8, 128, true),
    gqa("llama-3.1-70b", 80, 8, 128, false),
    gqa("llama-3.1-70b-fp8", 80, 8, 128, true),
    gqa("llama-3.1-405b", 126, 8, 128, false),
    gqa("llama-3.1-405b-fp8", 126, 8, 128, true),
    gqa("qwen3-235b-a22b", 94, 4, 128, false),
    gqa("qwen3-235b-a22b-fp8", 94, 4, 128, true),
    mla("deepseek-v3", 61, 512, 64, false),
    mla("deepseek-v3-fp8", 61, 512, 64, true),
];

impl KvProfile {
    /// The profile called `name` (exact, as listed by `names()`).
    pub fn by_name(name: &str) -> Option<&'static KvProfile> {
        PROFILES.iter().find(|p| p.name == name)
    }

    /// Like `by_name`, with an error listing the valid names (for `--kv-profile`).
    pub fn from_name(name: &str) -> Result<&'static KvProfile, UnknownProfile> {
        Self::by_name(name).ok_or_else(|| UnknownProfile {
            name: name.to_string(),
        })
    }

    /// Every profile name, in listing order.
    pub fn names() -> Vec<&'static str> {
        PROFILES.iter().map(|p| p.name).collect()
    }

    /// Every profile.
    pub fn all() -> &'static [KvProfile] {
        &PROFILES
    }

    /// `DEFAULT_PROFILE`.
    pub fn default_profile() -> &'static KvProfile {
        &PROFILES[DEFAULT_INDEX]
    }

    /// KV-cache bytes one token occupies.
    pub fn bytes_per_token(&self) -> u64 {
        let bpe = u64::from(self.bytes_per_element);
        match self.attention {
            Attention::Gqa {
                layers,
                kv_heads,
                head_dim,
            } => 2 * u64::from(layers) * u64::from(kv_heads) * u64::from(head_dim) * bpe,
            Attention::Mla {
                layers,
                kv_lora_rank,
                rope_dim,
            } => u64::from(layers) * (u64::from(kv_lora_rank) + u64::from(rope_dim)) * bpe,
        }
    }

    /// One line stating the assumption and its arithmetic, e.g. `llama-3.1-405b: GQA, 2 (K+V) ×
    /// 126 layers × 8 KV heads × 128 dim × 2 B (bf16) = 516,096 B/token`.
    pub fn describe(&self) -> String {
        let shape = match self.attention {
            Attention::Gqa {
                layers,
                kv_heads,
                head_dim,
            } => format!("GQA, 2 (K+V) × {layers} layers × {kv_heads} KV heads × {head_dim} dim"),
            Attention::Mla {
                layers,
                kv_lora_rank,
                rope_dim,
            } => format!("MLA, {layers} layers × ({kv_lora_rank} latent + {rope_dim} RoPE) dim"),
        };
        format!(
            "{}: {shape} × {} B ({}) = {} B/token",
            self.name,
            self.bytes_per_element,
            self.dtype,
            thousands(self.bytes_per_token())
        )
    }
}

/// `516096` → `516,096`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
