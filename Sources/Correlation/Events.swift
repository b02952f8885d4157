import ForewarnModel
import Foundation

/// What the correlator is told.
public enum CorrelatorEvent: Sendable, Hashable {
    /// Evidence from a source (poll, trap, probe).
    case observation(Observation)
    /// A call logged by the contact centre.
    case customerReport(CustomerReport)
    /// A maintenance window is known (from the configuration or `forewarn maintenance add`);
    /// its start and end are taken from its times, checked on every tick.
    case maintenance(MaintenanceWindow)
    /// A window withdrawn or ended early by the operator, at this time.
    case maintenanceEnded(MaintenanceID, at: Date)
    case operatorAction(OperatorAction)
    /// Incidents entered by hand: all of them, or (one refused) none.
    case manualIncidents([ManualIncident])
    /// A correction of an incident's line interval or classification.
    case incidentEdit(IncidentEdit)
}

/// What the correlator decides; the service persists incident changes and sends confirmation
/// requests.
public enum CorrelatorAction: Sendable, Hashable {
    /// An incident opened, grew, was re-rooted, merged, resolved or updated.
    case incident(IncidentChange)
    /// Ask the SNMP engine or the prober to look now.
    case confirm(ConfirmationRequest)
    /// A customer's call, attached to this incident (the store records the call with it).
    case customerReportFiled(CustomerReport, incident: IncidentID)
    /// An event that could not be applied (an operator action on an unknown incident, a report
    /// about an unknown line), with the reason.
    case rejected(String)
}
