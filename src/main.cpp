// Composition root: parses the command line, loads configuration and wires the layers together.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <thread>

#include "app/add_cart_item.hpp"
#include "app/backup_ranking.hpp"
#include "app/charge_balance.hpp"
#include "app/complete_order.hpp"
#include "app/create_order.hpp"
#include "app/get_cart.hpp"
#include "app/get_coupons.hpp"
#include "app/get_orders.hpp"
#include "app/get_products.hpp"
#include "app/get_ranking.hpp"
#include "app/get_reservation_status.hpp"
#include "app/get_top_products.hpp"
#include "app/get_user.hpp"
#include "app/issue_coupon.hpp"
#include "app/pay_order.hpp"
#include "app/product_catalog.hpp"
#include "app/purge_expired_idempotency_records.hpp"
#include "app/purge_published_outbox_events.hpp"
#include "app/rebuild_ranking.hpp"
#include "app/recover_stale_payments.hpp"
#include "app/reserve_coupon.hpp"
#include "app/update_cart_item.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "infra/events/coupon_issuer.hpp"
#include "infra/events/outbox_relay.hpp"
#include "infra/payment/mock_payment_gateway.hpp"
#include "infra/postgres/migrator.hpp"
#include "infra/postgres/pg_cart_repository.hpp"
#include "infra/postgres/pg_coupon_repository.hpp"
#include "infra/postgres/pg_idempotency_records.hpp"
#include "infra/postgres/pg_order_repository.hpp"
#include "infra/postgres/pg_outbox_repository.hpp"
#include "infra/postgres/pg_payment_repository.hpp"
#include "infra/postgres/pg_pool.hpp"
#include "infra/postgres/pg_product_repository.hpp"
#include "infra/postgres/pg_ranking_backup_repository.hpp"
#include "infra/postgres/pg_user_repository.hpp"
#include "infra/postgres/seeder.hpp"
#include "infra/postgres/wal_flush_barrier.hpp"
#include "infra/redis/redis_client.hpp"
#include "infra/redis/redis_coupon_gate.hpp"
#include "infra/redis/redis_ranking_store.hpp"
#include "ops/circuit_breaker.hpp"
#include "ops/config.hpp"
#include "ops/embedded_file.hpp"
#include "ops/health.hpp"
#include "ops/logging.hpp"
#include "ops/metrics.hpp"
#include "ops/periodic_task.hpp"

namespace asio = boost::asio;
using namespace ec;

namespace {

// Runs one coroutine to completion on `ioc` (used before the server starts and by CLI commands).
template <typename T>
T run_sync(asio::io_context& ioc, asio::awaitable<T> task) {
    std::exception_ptr error;
    std::optional<T> value;
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T v) {
        error = e;
        if (!e) value = std::move(v);
    });
    ioc.restart();
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*value);
}

void set_business_time_zone(const std::string& zone) {
    // Timestamps on the wire are local date-times of the business zone; localtime_r follows TZ.
    ::setenv("TZ", zone.c_str(), 1);
    ::tzset();
}

infra::pg::MigrationReport run_migrations(asio::io_context& ioc, infra::pg::PgPool& pool) {
    const auto migrations = infra::pg::parse_migrations(embedded_migrations());
    auto report = run_sync(ioc, infra::pg::migrate(pool, migrations));
    spdlog::info("migrations: {} applied now, {} already applied", report.applied, report.already_applied);
    return report;
}

void run_seed(asio::io_context& ioc, infra::pg::PgPool& pool, const ops::AppConfig& cfg, bool demo,
              bool load_test) {
    if (cfg.profile == "prod") {
        throw std::runtime_error(
            "seeding is refused in profile 'prod': demo and load-test users are for local/test only");
    }
    const auto started = std::chrono::steady_clock::now();
    auto report = run_sync(ioc, infra::pg::seed(pool, demo, load_test, cfg.business.time_zone));
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    spdlog::info("seed: {} demo users and {} load-test users inserted ({} ms; existing rows kept)",
                 report.demo_users, report.load_test_users, ms.count());
    if (report.demo_commerce_skipped) {
        spdlog::info("seed: demo catalogue skipped (products already exist)");
    } else if (demo) {
        spdlog::info(
            "seed: demo catalogue inserted: {} products, {} coupons, {} user coupons, {} carts ({} items), "
            "{} orders ({} items)",
            report.demo_products, report.demo_coupons, report.demo_user_coupons, report.demo_carts,
            report.demo_cart_items, report.demo_orders, report.demo_order_items);
    }
}

int serve(const ops::AppConfig& cfg) {
    const int threads = cfg.server.threads > 0
                            ? cfg.server.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    asio::io_context ioc(threads);
    ops::MetricsRegistry metrics;
    auto pool = infra::pg::PgPool::create(ioc, cfg.datasource, metrics);

    if (cfg.migration.on_start) run_migrations(ioc, *pool);
    if (cfg.seed.demo_data || cfg.seed.load_test_users) {
        run_seed(ioc, *pool, cfg, cfg.seed.demo_data, cfg.seed.load_test_users);
    }

    ops::CircuitBreaker redis_breaker("redis", cfg.redis_breaker);
    redis_breaker.export_metrics(metrics);
    infra::redis::RedisClient redis(ioc, cfg.redis, redis_breaker, metrics);

    infra::pg::PgUserRepository users(pool);
    app::GetUser get_user(users);
    app::ChargeBalance charge_balance(users);

    infra::pg::PgProductRepository products(pool);
    app::ProductCatalog catalog(products, cfg.products.cache_ttl);
    app::GetProducts get_products(catalog);
    app::GetTopProducts get_top_products(products, cfg.business.time_zone, cfg.products.top_cache_ttl);

    infra::pg::PgCartRepository carts(pool);
    app::AddCartItem add_cart_item(carts);
    app::GetCart get_cart(carts);
    app::UpdateCartItem update_cart_item(carts);

    // The flush barrier's rounds get a connection of their own: in the shared pool a round would queue
    // behind the requests that wait for it. The coupon issuer always flushes through it; order and
    // payment commits do unless `datasource.flush-barrier` is off (then each waits for its own flush).
    auto flush_datasource = cfg.datasource;
    flush_datasource.pool.maximum_pool_size = 1;
    flush_datasource.pool.minimum_idle = 1;
    auto flush_pool = infra::pg::PgPool::create(ioc, flush_datasource, metrics, "HikariPool-flush");
    const auto wal_flush = infra::pg::WalFlushBarrier::create(flush_pool, metrics);
    const auto flush_barrier = cfg.datasource.flush_barrier ? wal_flush : nullptr;

    infra::pg::PgCouponRepository coupons(pool);
    app::IssueCoupon issue_coupon(coupons, metrics);
    app::GetCoupons get_coupons(coupons);

    // FCFS reservations (SPEC §7): validated from memory, decided in Redis, issued by the issuer.
    // Unknown user ids are asked of the database again after 1 s (users can appear through seeding).
    app::UserDirectory user_directory(users, std::chrono::seconds(1));
    app::CouponCatalog coupon_catalog(coupons, cfg.products.cache_ttl);
    infra::redis::RedisCouponGate coupon_gate(redis);
    // The issuer's transactions get connections of their own, like the outbox relay's.
    constexpr int kIssuerConnections = 4;
    auto issuer_datasource = cfg.datasource;
    issuer_datasource.pool.maximum_pool_size = kIssuerConnections;
    issuer_datasource.pool.minimum_idle = 1;
    auto issuer_pool = infra::pg::PgPool::create(ioc, issuer_datasource, metrics, "HikariPool-issuer");
    infra::pg::PgCouponRepository issuer_coupons(issuer_pool, wal_flush);
    infra::events::CouponIssuer coupon_issuer(
        ioc, coupon_gate, issuer_coupons, metrics,
        infra::events::CouponIssuerSettings{
            cfg.coupon.issuer.consumer_name.empty() ? infra::events::default_consumer_name()
                                                    : cfg.coupon.issuer.consumer_name,
            cfg.coupon.issuer.batch_size, cfg.coupon.issuer.max_retries, kIssuerConnections,
            cfg.coupon.issuer.claim_idle, cfg.coupon.issuer.block});
    app::ReserveCoupon reserve_coupon(
        app::ReserveCoupon::Deps{user_directory, coupon_catalog, coupons, coupon_gate, coupon_issuer},
        metrics, cfg.coupon.reservation_ttl);
    app::GetReservationStatus reservation_status(user_directory, coupon_catalog, coupons, coupon_gate);

    infra::redis::RedisRankingStore ranking_store(redis, cfg.ranking.key_ttl, cfg.outbox.stream_max_length);
    infra::pg::PgRankingBackupRepository ranking_backups(pool);
    // The relay gets a connection of its own: in the shared pool it would queue behind the requests
    // (64 waiting payments add ~50 ms to every round), and the ranking would lag the payments.
    auto outbox_datasource = cfg.datasource;
    outbox_datasource.pool.maximum_pool_size = 1;
    outbox_datasource.pool.minimum_idle = 1;
    auto outbox_pool = infra::pg::PgPool::create(ioc, outbox_datasource, metrics, "HikariPool-outbox");
    infra::pg::PgOutboxRepository outbox(outbox_pool, cfg.outbox.max_attempts, cfg.outbox.retry_backoff,
                                         cfg.business.time_zone, flush_barrier);
    app::GetRanking get_ranking(ranking_store, ranking_backups, catalog, metrics, cfg.ranking.cache_ttl);
    infra::events::OutboxRelay outbox_relay(
        ioc, outbox, ranking_store, metrics,
        infra::events::OutboxRelaySettings{cfg.outbox.poll_interval, cfg.outbox.linger,
                                           cfg.outbox.batch_size},
        [&get_ranking] { get_ranking.invalidate(); });
    app::BackupRanking backup_ranking(ranking_store, ranking_backups, catalog, cfg.ranking.backup.size);
    ops::PeriodicTask ranking_backup(ioc, "ranking backup", cfg.ranking.backup.interval,
                                     [&]() -> asio::awaitable<void> {
                                         co_await backup_ranking.execute();
                                         co_return;
                                     });

    infra::pg::PgOrderRepository orders(pool, flush_barrier);
    infra::pg::PgPaymentRepository payments(pool, flush_barrier);
    infra::payment::MockPaymentGateway gateway;
    app::CreateOrder create_order(orders, metrics);
    app::GetOrders get_orders(orders);
    app::PayOrder pay_order(payments, gateway, catalog, outbox_relay, metrics, cfg.payment.in_progress_wait);
    app::CompleteOrder complete_order(create_order, pay_order, orders);
    app::RecoverStalePayments recover_stale_payments(payments, catalog, cfg.payment.stale_after,
                                                     cfg.payment.full_recovery_interval);
    ops::PeriodicTask payment_recovery(ioc, "stale-payment recovery", cfg.payment.recovery_interval,
                                       [&]() -> asio::awaitable<void> {
                                           co_await recover_stale_payments.execute();
                                           co_return;
                                       });
    infra::pg::PgIdempotencyRecords idempotency_records(pool);
    constexpr int kPurgeBatchesPerRun = 100;
    app::PurgeExpiredIdempotencyRecords purge_idempotency_records(
        idempotency_records, metrics, cfg.idempotency.purge_batch_size, kPurgeBatchesPerRun);
    ops::PeriodicTask idempotency_purge(ioc, "idempotency record purge", cfg.idempotency.purge_interval,
                                        [&]() -> asio::awaitable<void> {
                                            co_await purge_idempotency_records.execute();
                                            co_return;
                                        });

    // On the request pool, like the idempotency purge: the relay's one connection stays the relay's,
    // so a purge batch never delays a relay round (the ranking's lag).
    infra::pg::PgOutboxRepository outbox_upkeep(pool, cfg.outbox.max_attempts, cfg.outbox.retry_backoff,
                                                cfg.business.time_zone);
    app::PurgePublishedOutboxEvents purge_outbox_events(outbox_upkeep, metrics, cfg.outbox.retention,
                                                        cfg.outbox.purge_batch_size, kPurgeBatchesPerRun);
    ops::PeriodicTask outbox_purge(ioc, "outbox event purge", cfg.outbox.purge_interval,
                                   [&]() -> asio::awaitable<void> {
                                       co_await purge_outbox_events.execute();
                                       co_return;
                                   });

    ops::Health health;
    health.add(
        "db",
        [pool]() -> asio::awaitable<boost::json::object> {
            auto conn = co_await pool->acquire();
            co_await conn->query("SELECT 1");
            co_return boost::json::object{
                {"status", "UP"}, {"details", {{"database", "PostgreSQL"}, {"validationQuery", "SELECT 1"}}}};
        },
        true);
    health.add(
        "redis",
        [&redis]() -> asio::awaitable<boost::json::object> {
            const bool up = co_await redis.ping();
            co_return boost::json::object{{"status", up ? "UP" : "DOWN"}};
        },
        false);

    http::Router router;
    http::register_user_routes(router, get_user, charge_balance);
    http::register_product_routes(router, get_products, get_top_products);
    http::register_ranking_routes(router, get_ranking);
    http::register_cart_routes(router, add_cart_item, get_cart, update_cart_item);
    http::register_coupon_routes(
        router, http::CouponUseCases{issue_coupon, get_coupons, reserve_coupon, reservation_status});
    const http::OrderUseCases order_use_cases{create_order, get_orders, pay_order, complete_order};
    http::register_order_routes(router, order_use_cases);
    http::register_actuator_routes(router, metrics, health);

    http::Server server(ioc, cfg.server, router, metrics);
    pool->start();
    outbox_pool->start();
    flush_pool->start();
    issuer_pool->start();
    redis.start();
    outbox_relay.start();
    coupon_issuer.start();
    asio::co_spawn(
        ioc,
        [&user_directory]() -> asio::awaitable<void> {
            try {
                co_await user_directory.load();
            } catch (const std::exception& e) {
                // Lookups ask the database until a later start loads the directory.
                spdlog::warn("user directory: not loaded ({}); unknown ids are looked up one by one",
                             e.what());
            }
            co_return;
        },
        asio::detached);
    server.start();
    payment_recovery.start();
    idempotency_purge.start();
    outbox_purge.start();
    ranking_backup.start();

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        spdlog::info("received signal {}, shutting down", signo);
        payment_recovery.stop();
        idempotency_purge.stop();
        outbox_purge.stop();
        ranking_backup.stop();
        server.shutdown([&] {
            outbox_relay.stop();   // events of in-flight payments are published; later ones at next start
            coupon_issuer.stop();  // unsettled requests stay pending; another issuer claims them
            redis.stop();
            outbox_pool->stop();
            flush_pool->stop();
            issuer_pool->stop();
            pool->stop();
            ioc.stop();
        });
    });

    ioc.restart();
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : workers) t.join();
    spdlog::info("stopped");
    spdlog::default_logger()->flush();
    return 0;
}

int rebuild_ranking(const ops::AppConfig& cfg, const std::string& date_text) {
    const auto date = domain::parse_business_date(date_text);
    if (!date) {
        std::cerr << "ranking rebuild: --date must be a date yyyy-MM-dd, got '" << date_text << "'\n";
        return 2;
    }
    // Published events are deleted after outbox.retention; an older day could be rebuilt short.
    const auto oldest = domain::oldest_day_with_all_events(domain::business_today(), cfg.outbox.retention);
    if (*date < oldest) {
        std::cerr << "ranking rebuild: " << date->iso()
                  << " is outside outbox.retention (published events older than it are deleted); the oldest "
                     "day that can be rebuilt is "
                  << oldest.iso() << "\n";
        return 2;
    }
    asio::io_context ioc(1);
    ops::MetricsRegistry metrics;
    auto pool = infra::pg::PgPool::create(ioc, cfg.datasource, metrics);
    ops::CircuitBreaker breaker("redis", cfg.redis_breaker);
    infra::redis::RedisClient redis(ioc, cfg.redis, breaker, metrics);
    infra::redis::RedisRankingStore store(redis, cfg.ranking.key_ttl, cfg.outbox.stream_max_length);
    // A running service may have paid orders committed but not yet flushed (flush barrier): the
    // rebuild writes none of them to Redis before they are durable.
    infra::pg::PgOutboxRepository outbox(pool, cfg.outbox.max_attempts, cfg.outbox.retry_backoff,
                                         cfg.business.time_zone,
                                         infra::pg::WalFlushBarrier::create(pool, metrics));
    app::RebuildRanking rebuild(outbox, store);
    redis.start();
    spdlog::info("ranking rebuild {}: reading the paid orders of that day...", date->iso());
    const auto report = run_sync(ioc, [&]() -> asio::awaitable<app::RebuildReport> {
        // The client connects in the background; give it the usual timeout to come up.
        asio::steady_timer timer(ioc);
        for (auto waited = std::chrono::milliseconds{0}; !redis.connected() && waited < cfg.redis.timeout * 5;
             waited += std::chrono::milliseconds{20}) {
            timer.expires_after(std::chrono::milliseconds{20});
            co_await timer.async_wait(asio::use_awaitable);
        }
        // Stopping the clients ends their background work, so run_sync's loop can return.
        std::exception_ptr failure;
        app::RebuildReport result;
        try {
            result = co_await rebuild.execute(*date);
        } catch (...) {
            failure = std::current_exception();
        }
        redis.stop();
        pool->stop();
        if (failure) std::rethrow_exception(failure);
        co_return result;
    }());
    spdlog::info("ranking rebuild {}: {} products, {} paid orders, {} units written to {}", date->iso(),
                 report.products, report.orders, report.units, infra::redis::ranking_day_key(*date));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"ecommerce - e-commerce backend (FCFS coupons, live sales ranking)"};
    cli.require_subcommand(1);
    cli.fallthrough();  // `serve --profile test` works as well as `--profile test serve`
    ops::ConfigSources sources;
    cli.add_option("--config-dir", sources.config_dir, "Directory holding application*.yml")
        ->capture_default_str();
    cli.add_option("--profile", sources.profile, "Profile: local, test or prod");
    cli.add_option("--set", sources.sets, "Override a configuration key: --set server.port=9090")
        ->allow_extra_args(false);
    auto* serve_cmd =
        cli.add_subcommand("serve", "Run the HTTP service (migrates first unless migration.on-start=false)");
    auto* migrate_cmd = cli.add_subcommand("migrate", "Apply pending database migrations and exit");
    auto* seed_cmd =
        cli.add_subcommand("seed", "Insert demo and load-test users (idempotent; refused in prod)");
    bool only_demo = false;
    bool only_load = false;
    seed_cmd->add_flag("--demo", only_demo, "Only the demo users");
    seed_cmd->add_flag("--load-test-users", only_load, "Only the 20,101 load-test users");
    auto* ranking_cmd = cli.add_subcommand("ranking", "Sales ranking maintenance");
    ranking_cmd->require_subcommand(1);
    auto* rebuild_cmd = ranking_cmd->add_subcommand(
        "rebuild", "Recompute one day of the Redis ranking from the paid orders in PostgreSQL");
    std::string rebuild_date;
    rebuild_cmd->add_option("--date", rebuild_date, "Business day, yyyy-MM-dd")->required();
    CLI11_PARSE(cli, argc, argv);

    ops::AppConfig cfg;
    try {
        sources.env = ops::process_environment();
        cfg = ops::load_config(sources);
    } catch (const ops::ConfigError& e) {
        std::cerr << "configuration error: " << e.what() << "\n";
        return 2;
    }
    ops::configure_logging(cfg.logging);
    set_business_time_zone(cfg.business.time_zone);

    try {
        if (serve_cmd->parsed()) return serve(cfg);
        if (rebuild_cmd->parsed()) return rebuild_ranking(cfg, rebuild_date);
        asio::io_context ioc(1);
        ops::MetricsRegistry metrics;
        auto pool = infra::pg::PgPool::create(ioc, cfg.datasource, metrics);
        if (migrate_cmd->parsed()) {
            run_migrations(ioc, *pool);
        } else if (seed_cmd->parsed()) {
            const bool both = !only_demo && !only_load;
            run_seed(ioc, *pool, cfg, both || only_demo, both || only_load);
        }
        pool->stop();
        return 0;
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        spdlog::default_logger()->flush();
        return 1;
    }
}
