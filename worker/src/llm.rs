//! An OpenAI-compatible chat model (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`), asked
//! for answers constrained by a strict JSON schema.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestSystemMessageArgs, ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
    ResponseFormat, ResponseFormatJsonSchema,
};
use secrecy::{ExposeSecret as _, SecretString};
use workflows::repair::{self, Prompt};

/// The answers are a few words; this bounds the cost of a confused model.
const MAX_TOKENS: u32 = 60;

/// A chat model. Cloning is cheap (the HTTP client is shared).
#[derive(Clone)]
pub struct LanguageModel {
    client: Client<OpenAIConfig>,
    model: String,
}

impl std::fmt::Debug for LanguageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageModel").field("model", &self.model).finish_non_exhaustive()
    }
}

/// Why the model gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("the model API failed: {0}")]
    Api(String),
    #[error(transparent)]
    Unreadable(#[from] repair::Unreadable),
}

impl LanguageModel {
    /// `base_url` is the API root (`https://api.openai.com/v1` when `None`).
    pub fn new(api_key: &SecretString, base_url: Option<&str>, model: &str) -> anyhow::Result<Self> {
        let mut config = OpenAIConfig::new().with_api_key(api_key.expose_secret());
        if let Some(base) = base_url {
            config = config.with_api_base(base.trim_end_matches('/'));
        }
        // The caller waits on the line: fail fast on a dead endpoint. Each request is also
        // bounded by its job's deadline.
        let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(2)).build()?;
        Ok(Self { client: Client::with_config(config).with_http_client(http), model: model.to_owned() })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Asks for a repair, waiting at most `within`: the candidate value, if the model could tell.
    pub async fn repair(&self, prompt: &Prompt, within: Duration) -> Result<Option<String>, ModelError> {
        let api = |e: async_openai::error::OpenAIError| ModelError::Api(e.to_string());
        let request = CreateChatCompletionRequestArgs::default()
            .model(&self.model)
            .temperature(0.0)
            .max_completion_tokens(MAX_TOKENS)
            .response_format(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    name: repair::SCHEMA_NAME.to_owned(),
                    description: Some("What the caller meant.".to_owned()),
                    schema: repair::schema(),
                    strict: Some(true),
                },
            })
            .messages([
                ChatCompletionRequestSystemMessageArgs::default()
                    .content(prompt.system.as_str())
                    .build()
                    .map_err(api)?
                    .into(),
                ChatCompletionRequestUserMessageArgs::default()
                    .content(prompt.user.as_str())
                    .build()
                    .map_err(api)?
                    .into(),
            ])
            .build()
            .map_err(api)?;
        let response = tokio::time::timeout(within, self.client.chat().create(request))
            .await
            .map_err(|_| ModelError::Timeout(within.as_millis()))?
            .map_err(api)?;
        let content = response
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message.content)
            .ok_or_else(|| ModelError::Api("the response has no message".to_owned()))?;
        Ok(repair::candidate(&content)?)
    }
}
