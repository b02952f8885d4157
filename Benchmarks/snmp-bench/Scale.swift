enum Scale { static func run(elements: Int, delayMilliseconds: Int, cycleSeconds: Double) async throws {} }
