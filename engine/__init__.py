"""Service layer and adapters: store, unit of work, commands, rules, cycle, scheduler, outbox."""
