#pragma once
// Port: "an outbox event was just committed". The payment use case raises it after its commit so
// the relay publishes at once instead of at its next poll. (Not a database NOTIFY: that takes a
// database-wide lock through every commit flush and cost 15-25 % of payment throughput; events of
// other instances are found by their own signal or, after a crash, by polling.)
namespace ec::app {

class OutboxSignal {
public:
    virtual ~OutboxSignal() = default;
    virtual void notify() noexcept = 0;
};

}  // namespace ec::app
