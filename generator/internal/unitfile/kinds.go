package unitfile

import "strings"

// Kind is how systemd combines several assignments of one setting: what a
// later line, or an empty one, does to the lines before it. Each setting's
// own parser in PID 1 decides; the table below holds the settings whose
// behaviour the merge tests prove against `systemd --test` (252 and 257)
// or that systemd's manual states, and every other setting is Additive.
// Erring that way is safe: a line the merge keeps that PID 1 drops is
// judged for nothing, a line it drops that PID 1 keeps would escape the
// check.
type Kind int

const (
	// Additive: every assignment stays (dependencies, which no drop-in
	// can remove, and every setting not in the table).
	Additive Kind = iota
	// List: an empty assignment clears the assignments before it (of
	// its whole group: BindPaths= and BindReadOnlyPaths= share one list).
	List
	// Single: the last assignment wins, an empty one included (it resets
	// the setting to its default, or, for Delegate=, turns it on).
	Single
	// Last: the last assignment PID 1 accepts wins; it ignores an empty
	// one, and a boolean that does not parse.
	Last
)

// setting is one entry of the table.
type setting struct {
	kind Kind
	// group is the list an empty assignment clears, when it is not the
	// setting's own.
	group string
	// boolean settings ignore values that are not booleans.
	boolean bool
}

// execSettings are the settings of the [Service] and [Socket] execution
// context (and the [Service] ones this project judges).
var execSettings = map[string]setting{
	// Lists (an empty assignment resets them: systemd.exec(5)).
	"RootImageOptions":        {kind: List},
	"MountImages":             {kind: List},
	"ExtensionImages":         {kind: List},
	"ExtensionDirectories":    {kind: List},
	"BindPaths":               {kind: List, group: "BindPaths"},
	"BindReadOnlyPaths":       {kind: List, group: "BindPaths"},
	"LoadCredential":          {kind: List, group: "LoadCredential"},
	"LoadCredentialEncrypted": {kind: List, group: "LoadCredential"},
	"SetCredential":           {kind: List, group: "SetCredential"},
	"SetCredentialEncrypted":  {kind: List, group: "SetCredential"},
	"ImportCredential":        {kind: List},
	"EnvironmentFile":         {kind: List},
	"Environment":             {kind: List},
	"PassEnvironment":         {kind: List},
	"OpenFile":                {kind: List},
	"DeviceAllow":             {kind: List},
	"AmbientCapabilities":     {kind: List},
	"CapabilityBoundingSet":   {kind: List},
	"SupplementaryGroups":     {kind: List},
	"StateDirectory":          {kind: List},
	"CacheDirectory":          {kind: List},
	"LogsDirectory":           {kind: List},
	"RuntimeDirectory":        {kind: List},
	"ConfigurationDirectory":  {kind: List},
	"IPAddressAllow":          {kind: List},
	"IPAddressDeny":           {kind: List},
	"ReadWritePaths":          {kind: List, group: "ReadWritePaths"},
	"ReadWriteDirectories":    {kind: List, group: "ReadWritePaths"},
	"ReadOnlyPaths":           {kind: List, group: "ReadOnlyPaths"},
	"ReadOnlyDirectories":     {kind: List, group: "ReadOnlyPaths"},

	// The last one wins; an empty one resets.
	"User":                   {kind: Single},
	"Group":                  {kind: Single},
	"PIDFile":                {kind: Single},
	"RootDirectory":          {kind: Single},
	"RootImage":              {kind: Single},
	"RootVerity":             {kind: Single},
	"RootHashSignature":      {kind: Single},
	"NetworkNamespacePath":   {kind: Single},
	"TTYPath":                {kind: Single},
	"PAMName":                {kind: Single},
	"UtmpIdentifier":         {kind: Single},
	"Nice":                   {kind: Single},
	"OOMScoreAdjust":         {kind: Single},
	"IOSchedulingClass":      {kind: Single},
	"CPUSchedulingPolicy":    {kind: Single},
	"KillMode":               {kind: Single},
	"Delegate":               {kind: Single}, // empty means yes
	"USBFunctionDescriptors": {kind: Single},
	"USBFunctionStrings":     {kind: Single},

	// The last accepted one wins; an empty one is ignored.
	"StandardInput":          {kind: Last},
	"StandardOutput":         {kind: Last},
	"StandardError":          {kind: Last},
	"MountFlags":             {kind: Last},
	"ManagedOOMPreference":   {kind: Last},
	"PermissionsStartOnly":   {kind: Last, boolean: true},
	"RootDirectoryStartOnly": {kind: Last, boolean: true},
	"RootEphemeral":          {kind: Last, boolean: true},
	"TTYReset":               {kind: Last, boolean: true},
	"TTYVHangup":             {kind: Last, boolean: true},
	"TTYVTDisallocate":       {kind: Last, boolean: true},
	"SendSIGKILL":            {kind: Last, boolean: true},
	"DynamicUser":            {kind: Last, boolean: true},
	"PrivateNetwork":         {kind: Last, boolean: true},
	"PrivateDevices":         {kind: Last, boolean: true},
}

// unitSettings are [Unit] settings.
var unitSettings = map[string]setting{
	"FailureAction":          {kind: Last},
	"SuccessAction":          {kind: Last},
	"JobTimeoutAction":       {kind: Last},
	"OnFailureJobMode":       {kind: Last},
	"OnSuccessJobMode":       {kind: Last},
	"RefuseManualStop":       {kind: Last, boolean: true},
	"IgnoreOnIsolate":        {kind: Last, boolean: true},
	"SurviveFinalKillSignal": {kind: Last, boolean: true},
}

// socketSettings are [Socket] settings of their own.
var socketSettings = map[string]setting{
	// Every listener is in one list: an empty Listen*= removes them all.
	"ListenStream":           {kind: List, group: "Listen"},
	"ListenDatagram":         {kind: List, group: "Listen"},
	"ListenSequentialPacket": {kind: List, group: "Listen"},
	"ListenFIFO":             {kind: List, group: "Listen"},
	"ListenSpecial":          {kind: List, group: "Listen"},
	"ListenNetlink":          {kind: List, group: "Listen"},
	"ListenMessageQueue":     {kind: List, group: "Listen"},
	"ListenUSBFunction":      {kind: List, group: "Listen"},
	"ReusePort":              {kind: Last, boolean: true},
	"Transparent":            {kind: Last, boolean: true},
}

// lookup returns the table entry of a setting; ok is false for the
// settings not in it.
func lookup(section, key string) (setting, bool) {
	var s setting
	var ok bool
	switch section {
	case "Service", "Socket":
		if IsCommand(key) {
			return setting{kind: List}, true
		}
		if s, ok = execSettings[key]; !ok && section == "Socket" {
			s, ok = socketSettings[key]
		}
	case "Unit":
		s, ok = unitSettings[key]
	}
	return s, ok
}

// KindOf returns how systemd combines assignments of key in section.
func KindOf(section, key string) Kind {
	s, _ := lookup(section, key)
	return s.kind
}

// IsCommand reports whether a key is a command setting (ExecStart=,
// ExecStopPost=, and the Exec*= lines newer systemd adds), each its own
// list an empty assignment clears.
func IsCommand(key string) bool {
	return strings.HasPrefix(key, "Exec") && key != "ExecPaths" && key != "ExecSearchPath"
}
