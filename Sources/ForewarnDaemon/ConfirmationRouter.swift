import ForewarnModel
import Synchronization

/// The correlator's confirmation requests, passed on to every source that can answer them. The
/// sources register after the correlator is built, since they deliver to it.
final class ConfirmationRouter: ConfirmationRequester {
    private let targets = Mutex<[any ConfirmationRequester]>([])

    func register(_ target: any ConfirmationRequester) { targets.withLock { $0.append(target) } }

    func requestConfirmation(_ request: ConfirmationRequest) {
        for target in targets.withLock({ $0 }) { target.requestConfirmation(request) }
    }
}
