//! The settings admins change while the engine runs, shared by start-up (which builds them),
//! the admin API (which edits them) and the stored documents (which are applied to them).

use actors::turns::{SharedFaq, SharedTemplates};

/// What admins can change while the engine runs: reply templates, the FAQ, and the LLM's
/// prompts. The next message of every conversation uses what is in force.
#[derive(Clone)]
pub struct LiveSettings {
    pub templates: SharedTemplates,
    pub faq: SharedFaq,
    pub llm: Option<actors::llm::LlmHandle>,
    /// The Tours actor, for its SAMO status (admin API).
    pub tours: Option<actors::tours::ToursHandle>,
}
