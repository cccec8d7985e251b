#include "sim/sim_services.hpp"

#include <simgrid/s4u.hpp>

#include <exception>

#include "models/common/rounding.hpp"

namespace sg4 = simgrid::s4u;

namespace iopf {

namespace {

// A wake-up is a message on the thread's own mailbox (SimGrid needs a payload: the token).
class MailboxWakeup final : public Wakeup {
 public:
  MailboxWakeup(SimServices* svc, const std::string& name) : svc_(svc), mb_(sg4::Mailbox::by_name(name)) {}
  void notify() override {
    static int token;
    mb_->put_init(&token, 0)->detach();
    svc_->count_event();
  }
  void wait() override {
    mb_->get<int>();
    svc_->count_event();
  }

 private:
  SimServices* svc_;
  sg4::Mailbox* mb_;
};

class SimCondition final : public Condition {
 public:
  explicit SimCondition(SimServices* svc)
      : svc_(svc), mutex_(sg4::Mutex::create()), cv_(sg4::ConditionVariable::create()) {}
  void wait() override {
    std::unique_lock<sg4::Mutex> lock(*mutex_);
    cv_->wait(lock);
    svc_->count_event();
  }
  void notify_all() override { cv_->notify_all(); }

 private:
  SimServices* svc_;
  sg4::MutexPtr mutex_;
  sg4::ConditionVariablePtr cv_;
};

}  // namespace

std::unique_ptr<Condition> SimServices::make_condition() { return std::make_unique<SimCondition>(this); }

uint64_t SimServices::clock_ns() { return round_half_away(sg4::Engine::get_clock() * 1e9); }

void SimServices::sleep_until(uint64_t t) {
  const uint64_t n = now_ns();
  if (t > n) {
    sg4::this_actor::sleep_for(static_cast<double>(t - n) * 1e-9);
    ++events_;
  }
}

void SimServices::cpu_work(uint64_t ns) {
  if (!ns) return;
  cores_.work(ns);
  ++events_;
}

void SimServices::swap_read(uint64_t bytes) {
  swap_->read(static_cast<sg_size_t>(bytes));
  ++events_;
}

void SimServices::swap_write(uint64_t bytes) {
  swap_->write(static_cast<sg_size_t>(bytes));
  ++events_;
}

std::unique_ptr<Wakeup> SimServices::make_wakeup(const std::string& name) {
  return std::make_unique<MailboxWakeup>(this, name);
}

void SimServices::spawn_daemon(const std::string& name, std::function<void()> body) {
  start_actor(name, cpu_, std::move(body), true);
}

void SimServices::spawn(const std::string& name, std::function<void()> body) {
  start_actor(name, cpu_, std::move(body), false);
}

void SimServices::start_actor(const std::string& name, sg4::Host* host, std::function<void()> body, bool daemon) {
  sg4::ActorPtr a = sg4::Actor::create(name, host, [this, name, body = std::move(body)]() { guarded(name, body); });
  if (daemon) a->daemonize();
}

void SimServices::guarded(const std::string& who, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    if (failure_.empty()) failure_ = who + ": " + e.what();
    sg4::Actor::kill_all();
  }
}

}  // namespace iopf
