#include "infra/postgres/seeder.hpp"

#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

namespace {
// Transaction-scoped advisory lock serialising concurrent seeds (released at commit/rollback).
constexpr const char* kSeedLock = "SELECT pg_advisory_xact_lock(7305482514186395001)";

// The original DataInitializer's users (ids 1..153), inserted before the load-test users so that
// user 1 is the demo user, as in the original where DataInitializer runs first.
constexpr const char* kDemoUsers = R"SQL(
WITH ins AS (
  INSERT INTO users (id, email, username, balance)
  SELECT * FROM (VALUES (1::BIGINT, 'hanghae@example.com', '김항해', 100000000::BIGINT),
                        (2, 'plus@example.com', '이플러스', 500000),
                        (3, 'backend@example.com', '박백엔드', 100000)) v
  UNION ALL
  SELECT i, 'testuser' || i || '@example.com', '테스트사용자' || i, 100000000 FROM generate_series(4, 153) i
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM ins
)SQL";

// LoadTestDataInitializer's ranges: 1, 1000-10999, 200000-200099, 300000-309999 (20,101 users).
constexpr const char* kLoadTestUsers = R"SQL(
WITH ins AS (
  INSERT INTO users (id, email, username, balance)
  SELECT 1, 'k6test1@loadtest.com', 'K6Test-Default-1', 20000000000
  UNION ALL
  SELECT i, 'k6test' || i || '@loadtest.com', 'K6Test-Extreme-' || i, 10000 FROM generate_series(1000, 10999) i
  UNION ALL
  SELECT i, 'k6test' || i || '@loadtest.com', 'K6Test-Seq-' || i, 10000 FROM generate_series(200000, 200099) i
  UNION ALL
  SELECT i, 'k6test' || i || '@loadtest.com', 'K6Test-Ramp-' || i, 10000 FROM generate_series(300000, 309999) i
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM ins
)SQL";

// The original DataInitializer's catalogue (reference/original-system.md §3.13). Explicit ids, as
// the original's insertion order produced them; created_at one second apart so that "newest"
// lists the higher ids first.
constexpr const char* kHasProducts = "SELECT EXISTS (SELECT 1 FROM products)";

constexpr const char* kDemoProducts = R"SQL(
WITH ins AS (
  INSERT INTO products (id, product_code, name, description, price, category, stock, created_at, updated_at)
  SELECT v.id, v.code, v.name, v.description, v.price, v.category, v.stock,
         now() - (21 - v.id) * INTERVAL '1 second', now() - (21 - v.id) * INTERVAL '1 second'
  FROM (VALUES
    (1::BIGINT, 'P001', '노트북', '16GB 메모리와 512GB SSD를 갖춘 고성능 노트북', 1500000::BIGINT, '전자제품', 10000),
    (2, 'P002', '마우스', '조용한 클릭의 무선 블루투스 마우스', 80000, '전자제품', 10000),
    (3, 'P003', '키보드', '적축 스위치 기계식 키보드', 120000, '전자제품', 10000),
    (4, 'P004', '모니터', '27인치 4K UHD 모니터', 500000, '전자제품', 10000),
    (5, 'P005', '헤드셋', '노이즈 캔슬링 무선 헤드셋', 250000, '전자제품', 10000),
    (6, 'P011', '웹캠', '화상 회의용 풀HD 웹캠', 150000, '전자제품', 10000),
    (7, 'P012', '스피커', '책상 위에 두기 좋은 블루투스 스피커', 95000, '전자제품', 10000),
    (8, 'P013', '마이크', '방송과 녹음용 USB 콘덴서 마이크 (품절)', 180000, '전자제품', 0),
    (9, 'P006', '의자', '허리를 받쳐 주는 인체공학 사무용 의자', 350000, '가구', 10000),
    (10, 'P007', '책상', '높이를 조절할 수 있는 모션 데스크', 450000, '가구', 10000),
    (11, 'P014', '모니터암', '듀얼 모니터용 가스 스프링 모니터암 (재고 한정)', 75000, '가구', 2),
    (12, 'P008', '자바 프로그래밍', '기초 문법부터 객체 지향까지 배우는 자바 입문서', 45000, '도서', 10000),
    (13, 'P009', '스프링 부트', '스프링 부트로 만드는 웹 애플리케이션', 38000, '도서', 10000),
    (14, 'P010', 'DDD', '도메인 주도 설계의 핵심 개념과 실천', 42000, '도서', 10000),
    (15, 'P015', '클린 아키텍처', '소프트웨어 구조와 설계의 원칙', 35000, '도서', 10000),
    (16, 'P016', '리팩토링', '코드 품질을 높이는 리팩토링 기법', 40000, '도서', 10000),
    (17, 'P017', '프로그래머 티셔츠', '개발자 농담이 인쇄된 면 티셔츠', 25000, '의류', 10000),
    (18, 'P018', '후드티', '편안한 오버핏 후드티', 55000, '의류', 10000),
    (19, 'P019', '코딩 양말', '키보드 패턴이 들어간 양말', 12000, '의류', 10000),
    (20, 'P020', '개발자 스티커', '노트북을 꾸미는 개발자 스티커 팩', 1000, '잡화', 10000),
    (21, 'P021', '워크스테이션', '대규모 빌드와 머신러닝을 위한 고성능 워크스테이션', 15000000, '전자제품', 100)
  ) v (id, code, name, description, price, category, stock)
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM ins
)SQL";

// SOLDOUT's window is not given by the original; it is open (now -1 day .. +1 month) so that an
// issue attempt answers "sold out", not "outside the window". Issued counts match the user coupons
// below: SOLDOUT 1 of 1 (user 2), EARLYBIRD15 1 (user 3, used).
constexpr const char* kDemoCoupons = R"SQL(
WITH ins AS (
  INSERT INTO coupons (id, coupon_code, name, discount_rate, total_quantity, issued_quantity, start_date, end_date)
  VALUES (1, 'WELCOME10', '신규 가입 10% 할인', 10, 100, 0, now(), now() + INTERVAL '3 months'),
         (2, 'VIP20', 'VIP 회원 20% 할인', 20, 50, 0, now(), now() + INTERVAL '1 month'),
         (3, 'EARLYBIRD15', '얼리버드 15% 할인', 15, 100, 1, now() - INTERVAL '20 days', now() + INTERVAL '10 days'),
         (4, 'SOLDOUT', '품절 테스트용 쿠폰', 25, 1, 1, now() - INTERVAL '1 day', now() + INTERVAL '1 month'),
         (5, 'EXPIRED30', '만료된 30% 할인', 30, 100, 0, now() - INTERVAL '2 months', now() - INTERVAL '1 day')
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM ins
)SQL";

constexpr const char* kDemoUserCoupons = R"SQL(
WITH ins AS (
  INSERT INTO user_coupons (id, user_id, coupon_id, status, issued_at, used_at, used_order_id, expires_at)
  SELECT v.id, v.user_id, v.coupon_id, v.status, v.issued_at, v.used_at, NULL, c.end_date
  FROM (VALUES (1::BIGINT, 3::BIGINT, 3::BIGINT, 'USED', now() - INTERVAL '15 days', now() - INTERVAL '14 days'),
               (2, 2, 4, 'AVAILABLE', now() - INTERVAL '1 hour', NULL)
  ) v (id, user_id, coupon_id, status, issued_at, used_at)
  JOIN coupons c ON c.id = v.coupon_id
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM ins
)SQL";

// Carts: user 1 has P001 x1 and P002 x2, user 2 has P003 x1 (lines a minute apart, newest last).
constexpr const char* kDemoCarts = R"SQL(
WITH carts_ins AS (
  INSERT INTO carts (id, user_id, created_at, updated_at)
  VALUES (1, 1, now() - INTERVAL '3 minutes', now() - INTERVAL '1 minute'),
         (2, 2, now() - INTERVAL '3 minutes', now() - INTERVAL '3 minutes')
  ON CONFLICT DO NOTHING RETURNING id),
items_ins AS (
  INSERT INTO cart_items (id, cart_id, product_id, quantity, created_at)
  SELECT v.id, v.cart_id, v.product_id, v.quantity, v.created_at
  FROM (VALUES (1::BIGINT, 1::BIGINT, 1::BIGINT, 1, now() - INTERVAL '2 minutes'),
               (2, 1, 2, 2, now() - INTERVAL '1 minute'),
               (3, 2, 3, 1, now() - INTERVAL '3 minutes')
  ) v (id, cart_id, product_id, quantity, created_at)
  WHERE v.cart_id IN (SELECT id FROM carts_ins)
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT (SELECT count(*) FROM carts_ins), (SELECT count(*) FROM items_ins)
)SQL";

// Orders, without discount and without any effect on stock or balances (seeded history, not
// payments): 18 sample orders — user 1: 10 (1-7 COMPLETED), user 2: 5 (11-13 COMPLETED), user 3: 3
// (16-17 COMPLETED), the others PENDING; paid ones weeks ago, outside the 3-day top — and the recent
// sales, 15 COMPLETED orders (one per product and day, users 4..18) paid at noon of today and the two
// days before in the business zone $1 (never in the future). GET /api/products/top then shows
// 마우스 90, 키보드 70, 노트북 60, 헤드셋 53, 모니터 37 units (the original's aggregate rows).
// Line prices are the catalogue prices. Every paid order gets the OrderCompleted outbox event a
// payment writes (same payload, created at its paid_at: paid orders are found through these events,
// V022); those of the recent sales are left unpublished, so the relay puts them in the live ranking
// of their days, the older ones are marked published.
constexpr const char* kDemoOrders = R"SQL(
WITH sample (id, user_id, completed, days_ago) AS (
  VALUES (1::BIGINT, 1::BIGINT, TRUE, 45), (2, 1, TRUE, 42), (3, 1, TRUE, 39), (4, 1, TRUE, 36), (5, 1, TRUE, 33),
         (6, 1, TRUE, 30), (7, 1, TRUE, 27), (8, 1, FALSE, 3), (9, 1, FALSE, 2), (10, 1, FALSE, 1),
         (11, 2, TRUE, 40), (12, 2, TRUE, 32), (13, 2, TRUE, 24), (14, 2, FALSE, 2), (15, 2, FALSE, 1),
         (16, 3, TRUE, 35), (17, 3, TRUE, 14), (18, 3, FALSE, 1)),
sample_items (order_id, product_id, quantity) AS (
  VALUES (1::BIGINT, 1::BIGINT, 1), (2, 2, 2), (3, 3, 1), (3, 2, 1), (4, 4, 1), (5, 5, 1), (6, 12, 1), (6, 13, 1),
         (7, 9, 1), (8, 10, 1), (9, 6, 1), (9, 7, 1), (10, 17, 2), (10, 19, 3),
         (11, 1, 1), (12, 14, 1), (12, 15, 1), (13, 18, 1), (14, 4, 2), (15, 20, 10),
         (16, 16, 1), (17, 3, 1), (17, 5, 1), (18, 11, 1)),
sales (product_id, two_days_ago, yesterday, today) AS (
  VALUES (1::BIGINT, 15, 20, 25), (2, 25, 30, 35), (3, 20, 22, 28), (5, 18, 15, 20), (4, 10, 12, 15)),
sales_orders AS (
  SELECT 18 + row_number() OVER (ORDER BY d.days_back DESC, s.product_id) AS id, s.product_id, d.quantity,
         least(now(), (date_trunc('day', now() AT TIME ZONE $1) - d.days_back * INTERVAL '1 day'
                       + INTERVAL '12 hours') AT TIME ZONE $1) AS paid_at
  FROM sales s
  CROSS JOIN LATERAL (VALUES (2, s.two_days_ago), (1, s.yesterday), (0, s.today)) d (days_back, quantity)),
all_orders AS (
  SELECT id, user_id, completed, FALSE AS recent, now() - days_ago * INTERVAL '1 day' AS created_at,
         CASE WHEN completed THEN now() - days_ago * INTERVAL '1 day' + INTERVAL '5 minutes' END AS paid_at
  FROM sample
  UNION ALL
  SELECT id, id - 15, TRUE, TRUE, paid_at - INTERVAL '5 minutes', paid_at FROM sales_orders),
lines AS (
  SELECT i.order_id, i.product_id, p.name, i.quantity, p.price
  FROM (SELECT order_id, product_id, quantity FROM sample_items
        UNION ALL
        SELECT id, product_id, quantity FROM sales_orders) i
  JOIN products p ON p.id = i.product_id),
orders_ins AS (
  INSERT INTO orders (id, order_number, user_id, coupon_id, subtotal_amount, discount_amount, total_amount, status,
                      created_at, paid_at)
  SELECT o.id, 'ORD-SEED-' || lpad(o.id::TEXT, 4, '0'), o.user_id, NULL, t.subtotal, 0, t.subtotal,
         CASE WHEN o.completed THEN 'COMPLETED' ELSE 'PENDING' END, o.created_at, o.paid_at
  FROM all_orders o
  JOIN (SELECT order_id, sum(price * quantity) AS subtotal FROM lines GROUP BY order_id) t ON t.order_id = o.id
  ON CONFLICT DO NOTHING RETURNING id),
items_ins AS (
  INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price, subtotal)
  SELECT l.order_id, l.product_id, l.name, l.quantity, l.price, l.price * l.quantity
  FROM lines l
  WHERE l.order_id IN (SELECT id FROM orders_ins)
  ORDER BY l.order_id, l.product_id
  RETURNING 1),
events_ins AS (
  INSERT INTO outbox_events (event_type, aggregate_id, payload, created_at, published_at, next_attempt_at)
  SELECT 'OrderCompleted', o.id, jsonb_build_object(
           'orderId', o.id, 'userId', o.user_id, 'paidAtUs', epoch_us(o.paid_at),
           'totalAmount', (SELECT sum(l.price * l.quantity) FROM lines l WHERE l.order_id = o.id),
           'items', (SELECT jsonb_agg(jsonb_build_object('productId', l.product_id, 'quantity', l.quantity)
                                      ORDER BY l.product_id) FROM lines l WHERE l.order_id = o.id)),
         o.paid_at, CASE WHEN NOT o.recent THEN o.paid_at END, o.paid_at
  FROM all_orders o
  WHERE o.completed AND o.id IN (SELECT id FROM orders_ins)
  ORDER BY o.id)
SELECT (SELECT count(*) FROM orders_ins), (SELECT count(*) FROM items_ins)
)SQL";

// Explicit ids bypass the identity sequences: move each past the largest id (never backwards).
constexpr const char* kBumpCommerceSequences = R"SQL(
SELECT setval(s.seq::REGCLASS, GREATEST(s.max_id + 1, nextval(s.seq::REGCLASS)), FALSE)
FROM (VALUES (pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products)),
             (pg_get_serial_sequence('coupons', 'id'), (SELECT max(id) FROM coupons)),
             (pg_get_serial_sequence('user_coupons', 'id'), (SELECT max(id) FROM user_coupons)),
             (pg_get_serial_sequence('carts', 'id'), (SELECT max(id) FROM carts)),
             (pg_get_serial_sequence('cart_items', 'id'), (SELECT max(id) FROM cart_items)),
             (pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders)),
             (pg_get_serial_sequence('order_items', 'id'), (SELECT max(id) FROM order_items))
) s (seq, max_id)
)SQL";

// Explicit ids bypass the identity sequence; move it past them so later inserts don't collide.
constexpr const char* kBumpSequence =
    "SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT max(id) FROM users), 1))";
}  // namespace

boost::asio::awaitable<SeedReport> seed(PgPool& pool, bool demo_data, bool load_test_users,
                                        std::string_view time_zone) {
    co_return co_await pool.transaction([&](PgConnection& conn) -> boost::asio::awaitable<SeedReport> {
        SeedReport report;
        // Concurrent seeds (two instances starting together) run one after the other: the second
        // then sees the first one's products and skips the catalogue instead of failing on it.
        co_await conn.query(kSeedLock);
        if (demo_data) report.demo_users = (co_await conn.query(kDemoUsers)).int64(0, 0);
        if (load_test_users) report.load_test_users = (co_await conn.query(kLoadTestUsers)).int64(0, 0);
        co_await conn.query(kBumpSequence);
        if (demo_data) {
            if ((co_await conn.query(kHasProducts)).boolean(0, 0)) {
                report.demo_commerce_skipped = true;
            } else {
                report.demo_products = (co_await conn.query(kDemoProducts)).int64(0, 0);
                report.demo_coupons = (co_await conn.query(kDemoCoupons)).int64(0, 0);
                report.demo_user_coupons = (co_await conn.query(kDemoUserCoupons)).int64(0, 0);
                const auto carts = co_await conn.query(kDemoCarts);
                report.demo_carts = carts.int64(0, 0);
                report.demo_cart_items = carts.int64(0, 1);
                const auto orders = co_await conn.query(kDemoOrders, time_zone);
                report.demo_orders = orders.int64(0, 0);
                report.demo_order_items = orders.int64(0, 1);
                co_await conn.query(kBumpCommerceSequences);
            }
        }
        co_return report;
    });
}

}  // namespace ec::infra::pg
