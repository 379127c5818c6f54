#include "infra/redis/redis_coupon_gate.hpp"

#include <cstdlib>

namespace ec::infra::redis {

using app::GateReservation;
using boost::asio::awaitable;

std::string coupon_key(std::int64_t coupon_id, const char* part) {
    return "coupon:{" + std::to_string(coupon_id) + "}:" + part;
}

namespace {

std::int64_t to_int(const std::string& s) {
    return std::strtoll(s.c_str(), nullptr, 10);
}

std::int64_t int_of(const Reply& r) {
    return r.type == Reply::Type::Integer ? r.integer : to_int(r.str);
}

bool is_gone(const Reply& r) {
    return r.is_error() && r.str.starts_with("NOGROUP");
}

// [id, [field, value, ...]] -> IssueRequest; false for an entry deleted meanwhile (nil fields).
bool parse_entry(const Reply& entry, IssueRequest& out) {
    if (entry.elements.size() != 2 || entry.elements[1].type != Reply::Type::Array) return false;
    out.entry_id = entry.elements[0].str;
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        const auto& name = fields[i].str;
        if (name == "couponId")
            out.coupon_id = to_int(fields[i + 1].str);
        else if (name == "userId")
            out.user_id = to_int(fields[i + 1].str);
        else if (name == "requestedAt")
            out.requested_at_ms = to_int(fields[i + 1].str);
    }
    return out.user_id != 0 && out.coupon_id != 0;
}

std::vector<IssueRequest> parse_entries(const Reply& entries) {
    std::vector<IssueRequest> out;
    for (const auto& e : entries.elements) {
        IssueRequest r;
        if (parse_entry(e, r)) out.push_back(std::move(r));
    }
    return out;
}

const char* settlement_name(Settlement how) {
    switch (how) {
        case Settlement::Issued:
            return "ISSUED";
        case Settlement::Cancelled:
            return "CANCELLED";
        case Settlement::Compensated:
            return "COMPENSATED";
    }
    return "CANCELLED";
}

}  // namespace

awaitable<GateReservation> RedisCouponGate::reserve(std::int64_t coupon_id, std::int64_t user_id,
                                                    std::int64_t requested_at_ms) {
    std::vector<std::string> keys{coupon_key(coupon_id, "remaining"), coupon_key(coupon_id, "users"),
                                  coupon_key(coupon_id, "issue-requests")};
    std::vector<std::string> args{std::to_string(user_id), std::to_string(coupon_id),
                                  std::to_string(requested_at_ms)};
    const auto reply = co_await redis_.eval(lua_script("coupon_reserve"), std::move(keys), std::move(args));
    checked(reply, "coupon_reserve");
    if (reply.elements.empty()) throw RedisUnavailable("coupon_reserve: unexpected reply");
    GateReservation out;
    switch (int_of(reply.elements[0])) {
        case 0:
            out.kind = GateReservation::Kind::Reserved;
            out.remaining_after = reply.elements.size() > 1 ? int_of(reply.elements[1]) : 0;
            break;
        case 1:
            out.kind = GateReservation::Kind::AlreadyReserved;
            break;
        case 2:
            out.kind = GateReservation::Kind::AlreadyIssued;
            break;
        case 3:
            out.kind = GateReservation::Kind::SoldOut;
            break;
        default:
            out.kind = GateReservation::Kind::NotInitialised;
    }
    co_return out;
}

awaitable<bool> RedisCouponGate::initialise(std::int64_t coupon_id, const app::GateSnapshot& snapshot,
                                            std::int64_t expire_at_ms) {
    std::vector<std::string> keys{coupon_key(coupon_id, "remaining"), coupon_key(coupon_id, "users"),
                                  coupon_key(coupon_id, "issue-requests")};
    std::vector<std::string> args{std::to_string(snapshot.total - snapshot.issued),
                                  std::to_string(expire_at_ms), kIssuerGroup};
    args.reserve(args.size() + snapshot.holders.size());
    for (const auto holder : snapshot.holders) args.push_back(std::to_string(holder));
    const auto reply = co_await redis_.eval(lua_script("coupon_gate_init"), std::move(keys), std::move(args));
    checked(reply, "coupon_gate_init");
    std::vector<std::string> added_cmd{"SADD", kActiveCoupons, std::to_string(coupon_id)};
    const auto added = co_await redis_.command(std::move(added_cmd));
    checked(added, "SADD");
    co_return int_of(reply) == 1;
}

awaitable<std::optional<domain::ReservationStatus>> RedisCouponGate::status(std::int64_t coupon_id,
                                                                            std::int64_t user_id) {
    std::vector<std::string> reply_cmd{"HGET", coupon_key(coupon_id, "users"), std::to_string(user_id)};
    const auto reply = co_await redis_.command(std::move(reply_cmd));
    checked(reply, "HGET");
    if (reply.str == "RESERVED") co_return domain::ReservationStatus::Reserved;
    if (reply.str == "ISSUED") co_return domain::ReservationStatus::Issued;
    if (reply.str == "FAILED") co_return domain::ReservationStatus::Failed;
    co_return std::nullopt;
}

awaitable<std::vector<std::int64_t>> RedisCouponGate::active_coupons() {
    std::vector<std::string> reply_cmd{"SMEMBERS", kActiveCoupons};
    const auto reply = co_await redis_.command(std::move(reply_cmd));
    checked(reply, "SMEMBERS");
    std::vector<std::int64_t> out;
    for (const auto& m : reply.elements) out.push_back(to_int(m.str));
    co_return out;
}

awaitable<std::vector<IssueRequest>> RedisCouponGate::read(std::int64_t coupon_id,
                                                           const std::string& consumer, bool own_pending,
                                                           int count, bool& gone) {
    // No BLOCK: the connection is shared and pipelined (see RedisClient::command).
    std::vector<std::string> reply_cmd{"XREADGROUP",
                                       "GROUP",
                                       kIssuerGroup,
                                       consumer,
                                       "COUNT",
                                       std::to_string(count),
                                       "STREAMS",
                                       coupon_key(coupon_id, "issue-requests"),
                                       own_pending ? "0" : ">"};
    const auto reply = co_await redis_.command(std::move(reply_cmd));
    gone = is_gone(reply);
    if (gone || reply.is_nil()) co_return std::vector<IssueRequest>{};
    checked(reply, "XREADGROUP");
    if (reply.elements.empty() || reply.elements[0].elements.size() != 2)
        co_return std::vector<IssueRequest>{};
    co_return parse_entries(reply.elements[0].elements[1]);
}

awaitable<std::vector<IssueRequest>> RedisCouponGate::claim_idle(std::int64_t coupon_id,
                                                                 const std::string& consumer,
                                                                 std::chrono::milliseconds min_idle,
                                                                 int count) {
    std::vector<std::string> reply_cmd{"XAUTOCLAIM",
                                       coupon_key(coupon_id, "issue-requests"),
                                       kIssuerGroup,
                                       consumer,
                                       std::to_string(min_idle.count()),
                                       "0-0",
                                       "COUNT",
                                       std::to_string(count)};
    const auto reply = co_await redis_.command(std::move(reply_cmd));
    if (is_gone(reply)) co_return std::vector<IssueRequest>{};
    checked(reply, "XAUTOCLAIM");
    if (reply.elements.size() < 2) co_return std::vector<IssueRequest>{};
    co_return parse_entries(reply.elements[1]);
}

awaitable<bool> RedisCouponGate::settle(const IssueRequest& request, Settlement how,
                                        const std::string& reason) {
    const auto id = request.coupon_id;
    std::vector<std::string> keys{coupon_key(id, "remaining"), coupon_key(id, "users"),
                                  coupon_key(id, "issue-requests"), coupon_key(id, "attempts"),
                                  coupon_key(id, "dead-letters")};
    std::vector<std::string> args{kIssuerGroup,
                                  request.entry_id,
                                  std::to_string(request.user_id),
                                  settlement_name(how),
                                  std::to_string(request.coupon_id),
                                  std::to_string(request.requested_at_ms),
                                  reason};
    const auto reply = co_await redis_.eval(lua_script("coupon_settle"), std::move(keys), std::move(args));
    checked(reply, "coupon_settle");
    co_return int_of(reply) == 1;
}

awaitable<std::int64_t> RedisCouponGate::record_failure(const IssueRequest& request) {
    std::vector<std::string> keys{coupon_key(request.coupon_id, "attempts"),
                                  coupon_key(request.coupon_id, "remaining")};
    std::vector<std::string> args{request.entry_id};
    const auto reply = co_await redis_.eval(lua_script("coupon_fail"), std::move(keys), std::move(args));
    checked(reply, "coupon_fail");
    co_return int_of(reply);
}

awaitable<IssueQueueStats> RedisCouponGate::stats(std::int64_t coupon_id) {
    IssueQueueStats out;
    std::vector<std::string> length_cmd{"XLEN", coupon_key(coupon_id, "issue-requests")};
    const auto length = co_await redis_.command(std::move(length_cmd));
    out.length = int_of(checked(length, "XLEN"));
    std::vector<std::string> dead_cmd{"XLEN", coupon_key(coupon_id, "dead-letters")};
    const auto dead = co_await redis_.command(std::move(dead_cmd));
    out.dead_letters = int_of(checked(dead, "XLEN"));
    std::vector<std::string> pending_cmd{"XPENDING", coupon_key(coupon_id, "issue-requests"), kIssuerGroup};
    const auto pending = co_await redis_.command(std::move(pending_cmd));
    if (is_gone(pending)) co_return out;
    checked(pending, "XPENDING");
    if (pending.elements.size() >= 2) {
        out.pending = int_of(pending.elements[0]);
        if (out.pending > 0) out.oldest_pending_ms = to_int(pending.elements[1].str);  // "ms-seq"
    }
    co_return out;
}

awaitable<bool> RedisCouponGate::repair_or_forget(std::int64_t coupon_id) {
    std::vector<std::string> keys{coupon_key(coupon_id, "remaining"),
                                  coupon_key(coupon_id, "issue-requests")};
    std::vector<std::string> args{kIssuerGroup};
    const auto repaired =
        co_await redis_.eval(lua_script("coupon_group_repair"), std::move(keys), std::move(args));
    checked(repaired, "coupon_group_repair");
    if (int_of(repaired) == 1) co_return true;
    std::vector<std::string> cmd{"SREM", kActiveCoupons, std::to_string(coupon_id)};
    const auto reply = co_await redis_.command(std::move(cmd));
    checked(reply, "SREM");
    co_return false;
}

}  // namespace ec::infra::redis
