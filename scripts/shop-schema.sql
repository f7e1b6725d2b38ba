-- The shop's orders table and its seed data (scripts/shop.sh seed). Safe to run again.
-- psql variable `orders`: how many orders to seed (default 1000 via scripts/shop.sh).
CREATE TABLE IF NOT EXISTS orders (
  id          bigint PRIMARY KEY,
  customer    text        NOT NULL,
  status      text        NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'delivered')),
  total_cents bigint      NOT NULL CHECK (total_cents >= 0),
  items       integer     NOT NULL CHECK (items > 0),
  created_at  timestamptz NOT NULL
);

-- Deterministic rows, so tests and experiments can name an order and know what it holds.
INSERT INTO orders (id, customer, status, total_cents, items, created_at)
SELECT g,
       'customer-' || (g % 97 + 1),
       (ARRAY['placed', 'paid', 'shipped', 'delivered'])[g % 4 + 1],
       1000 + (g * 37) % 50000,
       g % 5 + 1,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
FROM generate_series(1, :orders) AS g
ON CONFLICT (id) DO NOTHING;
