import ForewarnConfig
import Logging
import Persistence
import ServiceLifecycle
import Ticketing

/// Runs the ticket deliverer until shutdown, following configuration reloads (new, changed or
/// removed hooks take effect at once).
struct TicketDeliveryService: Service {
    let deliverer: TicketDeliverer<ContinuousClock>
    let current: CurrentConfiguration

    static func make(store: any Store, configuration: Configuration, logger: Logger) -> TicketDeliverer<ContinuousClock> {
        TicketDeliverer(store: store, hooks: HookTemplates.compile(configuration.hooks).hooks,
                        settings: DeliverySettings(concurrency: configuration.ticketing.concurrency,
                                                   pollInterval: configuration.ticketing.pollInterval),
                        clock: ContinuousClock(), logger: logger.with(label: "ticketing"))
    }

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await deliverer.run() }
            group.addTask { [current, deliverer] in
                var generation = current.generation
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    if current.generation != generation {
                        generation = current.generation
                        deliverer.update(hooks: HookTemplates.compile(current.configuration.hooks).hooks)
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}
