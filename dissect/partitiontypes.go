package dissect

// partitionType is what a GPT type GUID means under the Discoverable
// Partitions Specification.
type partitionType struct {
	designator   Designator
	architecture string // "" when not architecture-specific
}

// dpsTypes maps type GUIDs to designators (systemd's sd-gpt.h).
var dpsTypes = map[string]partitionType{}

func init() {
	perArch := map[string][6]string{ // root, root-verity, root-verity-sig, usr, usr-verity, usr-verity-sig
		"x86-64": {"4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5", "41092b05-9fc8-4523-994f-2def0408b176",
			"8484680c-9521-48c6-9c11-b0720656f69e", "77ff5f63-e7b6-4633-acf4-1565b864c0e6", "e7bb33fb-06cf-4e81-8273-e543b413e2e2"},
		"arm64": {"b921b045-1df0-41c3-af44-4c6f280d3fae", "df3300ce-d69f-4c92-978c-9bfb0f38d820", "6db69de6-29f4-4758-a7a5-962190f00ce3",
			"b0e01050-ee5f-4390-949a-9101b17104e9", "6e11a4e7-fbca-4ded-b9e9-e1a512bb664e", "c23ce4ff-44bd-4b00-b2d4-b41b3419e02a"},
		"x86": {"44479540-f297-41b2-9af7-d131d5f0458a", "d13c5d3b-b5d1-422a-b29f-9454fdc89d76", "5996fc05-109c-48de-808b-23fa0830b676",
			"75250d76-8cc6-458e-bd66-bd47cc81a812", "8f461b0d-14ee-4e81-9aa9-049b6fb97abd", "974a71c0-de41-43c3-be5d-5c5ccd1ad2c0"},
		"arm": {"69dad710-2ce4-4e3c-b16c-21a1d49abed3", "7386cdf2-203c-47a9-a498-f2ecce45a2d6", "42b0455f-eb11-491d-98d3-56145ba9d037",
			"7d0359a3-02b3-4f0a-865c-654403e70625", "c215d751-7bcd-4649-be90-6627490a4c05", "d7ff812f-37d1-4902-a810-d76ba57b975a"},
		"riscv64": {"72ec70a6-cf74-40e6-bd49-4bda08e8f224", "b6ed5582-440b-4209-b8da-5ff7c419ea3d", "efe0f087-ea8d-4469-821a-4c2a96a8386a",
			"beaec34b-8442-439b-a40b-984381ed097d", "8f1056be-9b05-47c4-81d6-be53128e5b54", "d2f9000a-7a18-453f-b5cd-4d32f77a7b32"},
		"ppc64-le": {"c31c45e6-3f39-412e-80fb-4809c4980599", "906bd944-4589-4aae-a4e4-dd983917446a", "d4a236e7-e873-4c07-bf1d-bf6cf7f1c3c6",
			"ee2b9983-21e8-4153-86d9-b6901a54d1ce", "ee2b9983-21e8-4153-86d9-b6901a54d1cf", "c8bfbd1e-268e-4521-8bba-bf314c399557"},
		"s390x": {"5eead9a9-fe09-4a1e-a1d7-520d00531306", "b325bfbe-c7be-4ab8-8357-139e652d2f6b", "c80187a5-73a3-491a-901a-017c3fa953e9",
			"8a4f5770-50aa-4ed3-874a-99b710db6fea", "31741cc4-1a2a-4111-a581-e00b447d2d06", "3f324816-667b-46ae-86ee-9b0c0c6c11b4"},
	}
	roles := [6]Designator{"root", "root-verity", "root-verity-sig", "usr", "usr-verity", "usr-verity-sig"}
	for arch, guids := range perArch {
		for i, g := range guids {
			dpsTypes[g] = partitionType{roles[i], arch}
		}
	}
	for g, d := range map[string]Designator{
		"c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "esp",
		"bc13c2ff-59e6-4262-a352-b275fd6f7172": "xbootldr",
		"0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "swap",
		"933ac7e1-2eb4-4f13-b844-0e14e2aef915": "home",
		"3b8f8425-20e0-4f3b-907f-1a25a76f98e8": "srv",
		"4d21b016-b534-45c2-a9fb-5c16e091fd2d": "var",
		"7ec6f557-3bc5-4aca-b293-16ef5df639d1": "tmp",
		"0fc63daf-8483-4772-8e79-3d69d8477de4": "linux-generic",
	} {
		dpsTypes[g] = partitionType{designator: d}
	}
}

// GPT attribute bits the specification uses.
const (
	flagGrowFS   = 1 << 59
	flagReadOnly = 1 << 60
	flagNoAuto   = 1 << 63
)
