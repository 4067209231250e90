//! Carts in Redis (`cart.store = "redis"`): a hash per customer, one field per line
//! (`p:{product}` = `{quantity}|{added at, ms}`) and the merchant they come from, kept for
//! `cart.ttl_secs` after the last change. Each change is one script, so a customer's
//! changes follow one another whichever instance takes them, as the row lock makes them on
//! PostgreSQL. What a paid order took is taken out once per order: the orders a cart gave
//! to are remembered beside it, so a redelivered `order.paid` takes nothing twice.

use super::Item;
use ordo_redis::{Error, Redis};
use time::OffsetDateTime;
use uuid::Uuid;

/// Answers `{1, ''}` for the cart's first line, `{0, ''}` for another, `{-1, merchant}`
/// when the cart holds another merchant's products, `{-2, ''}` when it is full, `{-3, ''}`
/// past the most of one product.
const ADD: &str = r"
local merchant = redis.call('HGET', KEYS[1], 'merchant')
if merchant and merchant ~= ARGV[3] then return {-1, merchant} end
local lines = redis.call('HLEN', KEYS[1])
if merchant then lines = lines - 1 end
if lines >= tonumber(ARGV[6]) then return {-2, ''} end
local field = 'p:' .. ARGV[1]
local quantity, added = tonumber(ARGV[2]), ARGV[4]
local line = redis.call('HGET', KEYS[1], field)
if line then
  local sep = string.find(line, '|', 1, true)
  quantity = quantity + tonumber(string.sub(line, 1, sep - 1))
  added = string.sub(line, sep + 1)
end
if quantity > tonumber(ARGV[5]) then return {-3, ''} end
redis.call('HSET', KEYS[1], field, string.format('%d|%s', quantity, added), 'merchant', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[7])
if lines == 0 then return {1, ''} end
return {0, ''}
";

/// Sets a line's quantity; 0 when there is no such line.
const SET: &str = r"
local field = 'p:' .. ARGV[1]
local line = redis.call('HGET', KEYS[1], field)
if not line then return 0 end
local sep = string.find(line, '|', 1, true)
redis.call('HSET', KEYS[1], field, ARGV[2] .. '|' .. string.sub(line, sep + 1))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
";

/// Removes a line, and the cart with its last; 0 when there is no such line.
const REMOVE: &str = r"
local removed = redis.call('HDEL', KEYS[1], 'p:' .. ARGV[1])
if redis.call('HLEN', KEYS[1]) <= 1 then redis.call('DEL', KEYS[1]) end
return removed
";

/// Takes out (product, quantity) pairs for the order `ARGV[1]`, once; 0 when it did before.
const TAKE_OUT: &str = r"
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[2], ARGV[2])
for i = 3, #ARGV, 2 do
  local field = 'p:' .. ARGV[i]
  local line = redis.call('HGET', KEYS[1], field)
  if line then
    local sep = string.find(line, '|', 1, true)
    local left = tonumber(string.sub(line, 1, sep - 1)) - tonumber(ARGV[i + 1])
    if left <= 0 then
      redis.call('HDEL', KEYS[1], field)
    else
      redis.call('HSET', KEYS[1], field, string.format('%d|%s', left, string.sub(line, sep + 1)))
    end
  end
end
if redis.call('HLEN', KEYS[1]) <= 1 then redis.call('DEL', KEYS[1]) end
return 1
";

/// What adding a line came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The cart's first line: the cart started.
    First,
    Another,
    OtherMerchant(Uuid),
    Full,
    TooMany,
}

pub struct RedisCarts {
    redis: Redis,
    ttl_secs: u64,
    add: redis::Script,
    set: redis::Script,
    remove: redis::Script,
    take_out: redis::Script,
}

impl RedisCarts {
    #[must_use]
    pub fn new(redis: Redis, ttl_secs: u64) -> Self {
        RedisCarts {
            redis,
            ttl_secs,
            add: redis::Script::new(ADD),
            set: redis::Script::new(SET),
            remove: redis::Script::new(REMOVE),
            take_out: redis::Script::new(TAKE_OUT),
        }
    }

    /// One hash tag per customer: a cart's two keys are in one slot of a Redis Cluster.
    fn key(&self, customer: Uuid) -> String {
        self.redis.key(&format!("cart:{{{customer}}}"))
    }

    fn ordered_key(&self, customer: Uuid) -> String {
        self.redis.key(&format!("cart:{{{customer}}}:ordered"))
    }

    /// The customer's lines, in the order they were first added.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn items(&self, customer: Uuid) -> Result<Vec<Item>, Error> {
        let fields: Vec<(String, String)> = self
            .redis
            .query(redis::cmd("HGETALL").arg(self.key(customer)))
            .await?;
        let mut lines: Vec<(i64, Item)> = fields
            .iter()
            .filter_map(|(field, value)| {
                let product_id = field.strip_prefix("p:")?.parse().ok()?;
                let (quantity, added) = value.split_once('|')?;
                Some((
                    added.parse().ok()?,
                    Item {
                        product_id,
                        quantity: quantity.parse().ok()?,
                    },
                ))
            })
            .collect();
        lines.sort_by_key(|(added, item)| (*added, item.product_id));
        Ok(lines.into_iter().map(|(_, item)| item).collect())
    }

    /// Adds the line's quantity to what the cart holds of its product (one of `merchant`'s).
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn add(
        &self,
        customer: Uuid,
        merchant: Uuid,
        line: Item,
        limits: (i64, i64),
        at: OffsetDateTime,
    ) -> Result<Added, Error> {
        let (max_quantity, max_lines) = limits;
        let mut invocation = self.add.prepare_invoke();
        invocation
            .key(self.key(customer))
            .arg(line.product_id.to_string())
            .arg(line.quantity)
            .arg(merchant.to_string())
            .arg(ordo_kernel::time::to_millis(at))
            .arg(max_quantity)
            .arg(max_lines)
            .arg(self.ttl_secs);
        let answer: (i64, String) = self.redis.invoke(invocation).await?;
        Ok(match answer {
            (1, _) => Added::First,
            (-1, other) => Added::OtherMerchant(other.parse().unwrap_or_else(|_| Uuid::nil())),
            (-2, _) => Added::Full,
            (-3, _) => Added::TooMany,
            _ => Added::Another,
        })
    }

    /// Sets the line's quantity; false when there is no such line.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn set(&self, customer: Uuid, product: Uuid, quantity: i64) -> Result<bool, Error> {
        let mut invocation = self.set.prepare_invoke();
        invocation
            .key(self.key(customer))
            .arg(product.to_string())
            .arg(quantity)
            .arg(self.ttl_secs);
        let done: i64 = self.redis.invoke(invocation).await?;
        Ok(done == 1)
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn remove(&self, customer: Uuid, product: Uuid) -> Result<bool, Error> {
        let mut invocation = self.remove.prepare_invoke();
        invocation.key(self.key(customer)).arg(product.to_string());
        let removed: i64 = self.redis.invoke(invocation).await?;
        Ok(removed == 1)
    }

    /// # Errors
    /// Redis cannot be reached.
    pub async fn clear(&self, customer: Uuid) -> Result<(), Error> {
        self.redis
            .query(redis::cmd("DEL").arg(self.key(customer)))
            .await
    }

    /// Takes out of the cart what `order` took (product, quantity), once for each order.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn take_out(
        &self,
        customer: Uuid,
        order: Uuid,
        lines: &[(Uuid, i64)],
    ) -> Result<(), Error> {
        let mut invocation = self.take_out.prepare_invoke();
        invocation
            .key(self.key(customer))
            .key(self.ordered_key(customer))
            .arg(order.to_string())
            .arg(self.ttl_secs);
        for (product, quantity) in lines {
            invocation.arg(product.to_string()).arg(*quantity);
        }
        let _: i64 = self.redis.invoke(invocation).await?;
        Ok(())
    }
}
