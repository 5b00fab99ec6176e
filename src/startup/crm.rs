//! The wiring of Bitrix24: the Crm actor's settings from the configuration (used by start-up
//! and by `crystalbay doctor`).

use crate::config::BitrixConfig;
use actors::crm::{CrmSettings, SyncSettings};

/// The Crm actor's settings for this Bitrix24 configuration (also `doctor`'s).
pub fn settings_of(b: &BitrixConfig) -> CrmSettings {
    let mut s = CrmSettings::new(b.webhook_url.clone());
    s.sync = SyncSettings {
        deal_category: b.deal_category.clone(),
        stage_names: b.stage_names.clone(),
        use_leads: b.use_leads,
    };
    s.rate_per_sec = b.rate_per_sec;
    s.burst = b.burst;
    s.retry_base = b.retry_base;
    s.max_attempts = b.max_attempts;
    s.setup_recheck = b.setup_recheck;
    s
}
