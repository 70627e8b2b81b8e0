package faker

// Word lists the generators draw from. They are plain ASCII without quotes
// or backslashes, so a word can be pasted inside a JSON string as it is;
// most are rendered once into whole `,"key":"value"` fragments (fieldAll).

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
	"Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
	"Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah",
	"Ronald", "Stephanie", "Edward", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
	"Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Anna",
	"Stephen", "Brenda", "Larry", "Pamela", "Justin", "Emma", "Scott", "Nicole", "Brandon", "Helen",
	"Rudolf", "Orville", "Rachell", "Yer", "Alton", "Octavio", "Casimira", "Terrell", "Ira", "Randall",
	"Alexander", "Wesley", "Emiko", "Harold", "Aleshia", "Reggie", "Olevia", "Lisandra", "Adam", "Vallie",
	"Stormy", "Tisa", "Elke", "Kristel", "Dominic", "Ingrid", "Mateo", "Priya", "Kenji", "Fatima",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
	"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
	"Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
	"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
	"Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
}

var titles = []string{
	"Mr.", "Mrs.", "Miss", "Ms.", "Madam", "Sir", "Master", "Dr.", "Prof.", "M.Des",
	"M.A.", "B.Sc", "MMath", "M.Sc.Tech.", "EdD", "DPhil", "M.Eng.", "PhD", "B.A.", "MBA",
}

var emailWords = []string{
	"wisconsin", "recipes", "assets", "necessary", "implementing", "ind", "coupled", "stick", "efforts", "intellectual",
	"follow", "june", "laugh", "reporters", "emacs", "linda", "romania", "diameter", "responsible", "safe",
	"lodge", "calvin", "explicit", "strategy", "labor", "harbor", "velvet", "orbit", "maple", "granite",
	"pixel", "canyon", "meadow", "signal", "falcon", "lantern", "summit", "cobalt", "willow", "ember",
	"quartz", "nomad", "tundra", "breeze", "cedar", "delta", "fjord", "glacier", "horizon", "island",
	"jasper", "kernel", "lagoon", "mosaic", "nectar", "oasis", "prairie", "quiver", "river", "saffron",
	"thistle", "umbra", "vertex", "wander", "yonder", "zephyr", "anchor", "beacon", "compass", "drift",
}

var emailDomains = []string{
	"gmail.com", "yahoo.com", "yandex.com", "protonmail.com", "example.org", "live.com", "duck.com",
	"outlook.com", "icloud.com", "hotmail.com", "aol.com", "zoho.com", "mail.com", "gmx.net",
}

var genders = []string{"Female", "Male", "Other", "Fluid"}

var languages = []string{
	"English", "Spanish", "French", "German", "Italian", "Portuguese", "Dutch", "Polish", "Russian", "Ukrainian",
	"Arabic", "Hebrew", "Turkish", "Persian", "Hindi", "Bengali", "Tamil", "Malayalam", "Nepali", "Urdu",
	"Mandarin", "Cantonese", "Japanese", "Korean", "Vietnamese", "Thai", "Malay", "Khmer", "Indonesian", "Tagalog",
	"Swahili", "Amharic", "Yoruba", "Zulu", "Icelandic", "Finnish", "Swedish", "Norwegian", "Danish", "Estonian",
	"Latvian", "Lithuanian", "Czech", "Slovak", "Hungarian", "Romanian", "Bulgarian", "Croatian", "Bosnian", "Serbian",
	"Montenegrin", "Greek", "Albanian", "Maltese", "Luxembourgish", "Kurdish", "Kyrgyz", "Tajik", "Quechua", "Guarani",
}

var degrees = []string{"Bachelor", "Master", "PhD"}

var nationalities = []string{
	"Afghan", "Argentinian", "Australian", "Austrian", "Belgian", "Brazilian", "Cameroonian", "Canadian", "Chilean", "Chinese",
	"Colombian", "Costa Rican", "Cuban", "Danish", "Dutch", "Ecuadorian", "Egyptian", "Estonian", "Finnish", "French",
	"German", "Ghanaian", "Greek", "Indian", "Irish", "Italian", "Japanese", "Kenyan", "Latvian", "Mexican",
	"Moroccan", "New Zealander", "Nigerian", "Norwegian", "Peruvian", "Polish", "Portuguese", "Puerto Rican", "Russian", "Saudi",
	"Scottish", "Spanish", "Swedish", "Swiss", "Thai", "Turkish", "Ukrainian", "American", "Vietnamese", "Welsh",
}

var occupations = []string{
	"Valve Technician", "Optical Advisor", "Aeronautical Engineer", "Line Manager", "Paint Consultant", "Pathologist",
	"Chicken Chaser", "Trout Farmer", "Purchase Clerk", "Nursery Nurse", "Keep Fit Instructor", "Warehousewoman",
	"Weighbridge Operator", "Foreman", "Projectionist", "China Restorer", "Magistrate", "Gaming Board Inspector",
	"Road Sweeper", "Postman", "Travel Guide", "Shepherd", "Applications Programmer", "Aircraft Surface Finisher",
	"Television Engineer", "Accountant", "Architect", "Baker", "Carpenter", "Chemist", "Dentist", "Electrician",
	"Firefighter", "Geologist", "Hairdresser", "Journalist", "Librarian", "Mechanic", "Nurse", "Pharmacist",
	"Photographer", "Pilot", "Plumber", "Police Officer", "Software Developer", "Surveyor", "Teacher", "Translator",
	"Veterinarian", "Web Designer", "Data Analyst", "Bus Driver", "Chef", "Gardener", "Lecturer", "Midwife",
}

var bloodTypes = []string{"O+", "O-", "A+", "A-", "B+", "B-", "AB+", "AB-"}

var streetNames = []string{
	"Yukon", "Maple", "Oak", "Pine", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park",
	"Main", "Church", "High", "Mill", "Station", "Victoria", "Green", "Manor", "Kings", "Queens",
	"Sunset", "Ridge", "Meadow", "River", "Forest", "Spring", "Willow", "Highland", "Valley", "Harbor",
	"Lincoln", "Jefferson", "Madison", "Franklin", "Chestnut", "Walnut", "Sycamore", "Magnolia", "Juniper", "Aspen",
}

var streetSuffixes = []string{"Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place", "Boulevard", "Way", "Terrace"}

var cities = []string{
	"Wooster", "Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Clinton", "Fairview", "Salem", "Madison",
	"Georgetown", "Arlington", "Ashland", "Burlington", "Manchester", "Milton", "Oxford", "Dayton", "Lexington", "Portland",
	"Jackson", "Auburn", "Dover", "Hudson", "Kingston", "Lebanon", "Newport", "Oakland", "Princeton", "Quincy",
	"Richmond", "Shelby", "Trenton", "Union", "Vienna", "Warren", "Winchester", "York", "Aurora", "Bedford",
}

var states = []string{
	"Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida", "Georgia",
	"Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland",
	"Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire", "New Jersey",
	"New Mexico", "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina",
	"South Dakota", "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
}

var countryCodes = []string{
	"US", "CA", "MX", "BR", "AR", "GB", "IE", "FR", "DE", "NL", "BE", "ES", "PT", "IT", "CH", "AT", "PL", "CZ",
	"SE", "NO", "DK", "FI", "EE", "LV", "LT", "GR", "TR", "EG", "MA", "NG", "KE", "ZA", "IN", "CN", "JP", "KR",
	"VN", "TH", "MY", "ID", "PH", "AU", "NZ", "BI", "CM", "PE", "CL", "CO", "EC", "CU",
}
