module github.com/AndrewDonelson/strata/integration

go 1.24
