//! Removing a namespace (`BELLA_NAMESPACE`): its RabbitMQ queues and exchanges, and its Redis
//! keys, so that the next run with the same name starts empty.

use adapters::{Config, Namespace};
use redis::aio::ConnectionManager;

/// Keys deleted by one `DEL`.
const KEYS_PER_DEL: usize = 1000;

/// Deletes `config.namespace`'s queues and exchanges on `config.amqp_url` and its keys in
/// `config.redis_url`. A service that cannot be reached keeps what it holds.
pub async fn remove_namespace(config: &Config) {
    if let Ok(amqp) = adapters::amqp::connect(&config.amqp_url, "bella-sandbox-cleanup").await {
        if let Ok(channel) = amqp.create_channel().await {
            let _ = adapters::amqp::topology::delete(&channel, &config.namespace).await;
            let _ = channel.close(200, "OK".into()).await;
        }
        let _ = amqp.close(200, "OK".into()).await;
    }
    if let Ok(mut redis) = adapters::redis::connect(&config.redis_url).await {
        remove_keys(&mut redis, &config.namespace).await;
    }
}

/// Deletes every key of the namespace (`{namespace}:*`).
async fn remove_keys(redis: &mut ConnectionManager, names: &Namespace) {
    let pattern = format!("{names}:*");
    let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(redis).await.unwrap_or_default();
    for chunk in keys.chunks(KEYS_PER_DEL) {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(chunk).query_async(redis).await;
    }
}
